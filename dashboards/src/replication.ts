/**
 * Replication health, from mysqld_exporter on each server and from the API's own /metrics: the replica's
 * threads and lag, each server's connections and queries, and where the API served its reads from.
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { API_METRICS as A } from '../../common/metrics.ts';
import {
  apiBucket,
  apiCount,
  bucketQuantile,
  datasourceVariable,
  houseDashboard,
  INSTANCE_MATCHER,
  instanceVariable,
  mysqlSelector,
  perSecond,
  statPanel,
  timeseriesPanel,
  UNITS,
  yesNo,
  ZERO_IS_GREEN,
} from './defaults.ts';
import { exporterSeries, MYSQLD_EXPORTER as X } from './mysqld-exporter.ts';

const sel = mysqlSelector();
const INSTANCE = '{{instance}}';
const NO_REPLICA = 'no replica here';

const threads = () => [
  statPanel({
    title: 'Replica IO thread',
    description:
      'Slave_IO_Running from SHOW SLAVE STATUS (Replica_IO_Running from SHOW REPLICA STATUS on MySQL 8.4), per ' +
      'server that replicates: Yes is running.',
    unit: UNITS.none,
    w: 6,
    mappings: yesNo('yes'),
    noValue: NO_REPLICA,
    queries: [{ expr: exporterSeries(X.ioRunning, INSTANCE_MATCHER), legend: INSTANCE }],
  }),
  statPanel({
    title: 'Replica SQL thread',
    description:
      'Slave_SQL_Running from SHOW SLAVE STATUS (Replica_SQL_Running from SHOW REPLICA STATUS on MySQL 8.4), per ' +
      'server that replicates: Yes is running.',
    unit: UNITS.none,
    w: 6,
    mappings: yesNo('yes'),
    noValue: NO_REPLICA,
    queries: [{ expr: exporterSeries(X.sqlRunning, INSTANCE_MATCHER), legend: INSTANCE }],
  }),
  statPanel({
    title: 'Replication errors',
    description: 'Last_IO_Errno and Last_SQL_Errno of each replica: 0 is no error (green only at 0).',
    unit: UNITS.none,
    w: 6,
    thresholds: ZERO_IS_GREEN,
    noValue: NO_REPLICA,
    queries: [
      { expr: `${X.lastIoErrno}${sel}`, legend: `IO ${INSTANCE}` },
      { expr: `${X.lastSqlErrno}${sel}`, legend: `SQL ${INSTANCE}` },
    ],
  }),
  statPanel({
    title: 'Exporter reaches its server',
    description: 'mysql_up of each mysqld_exporter: Yes when its last scrape reached the server.',
    unit: UNITS.none,
    w: 6,
    mappings: yesNo('yes'),
    queries: [{ expr: `${X.up}${sel}`, legend: INSTANCE }],
  }),
];

const lag = () => [
  timeseriesPanel({
    title: 'Seconds behind master',
    description:
      'Seconds_Behind_Master of each replica (whole seconds, coarse; null while the SQL thread is stopped).',
    unit: UNITS.seconds,
    min: 0,
    w: 8,
    queries: [{ expr: exporterSeries(X.secondsBehind, INSTANCE_MATCHER), legend: INSTANCE }],
  }),
  timeseriesPanel({
    title: 'Heartbeat age',
    description:
      'Now minus the newest row of the heartbeat table the API writes on the primary, per server. On a ' +
      'replica it is the replication lag plus the beat interval; on the primary, the beat interval. Seconds.',
    unit: UNITS.seconds,
    min: 0,
    w: 8,
    queries: [
      {
        expr: `max by (instance) (${X.heartbeatNow}${sel} - ${X.heartbeatStored}${sel})`,
        legend: INSTANCE,
      },
    ],
  }),
  timeseriesPanel({
    title: 'Relay log space',
    description: 'Relay_Log_Space of each replica: relay logs received but not yet purged. Bytes.',
    unit: UNITS.bytes,
    min: 0,
    w: 8,
    queries: [{ expr: `${X.relayLogSpace}${sel}`, legend: INSTANCE }],
  }),
];

const servers = () => [
  timeseriesPanel({
    title: 'Queries per second',
    description: 'Statements clients sent (Questions) per second, per server.',
    unit: UNITS.perSecond,
    min: 0,
    w: 12,
    queries: [{ expr: `sum by (instance) (rate(${X.questions}${sel}[$__rate_interval]))`, legend: INSTANCE }],
  }),
  timeseriesPanel({
    title: 'Connections',
    description: 'Threads connected and running, and max_connections, per server. Count.',
    unit: UNITS.count,
    min: 0,
    w: 12,
    queries: [
      { expr: `${X.threadsConnected}${sel}`, legend: `connected ${INSTANCE}` },
      { expr: `${X.threadsRunning}${sel}`, legend: `running ${INSTANCE}` },
      { expr: `${X.maxConnections}${sel}`, legend: `max ${INSTANCE}` },
    ],
  }),
];

const api = () => [
  timeseriesPanel({
    title: 'API reads by source',
    description:
      'Requests per second the API answered, by strategy and where the read was served (X-Read-Source), from ' +
      'its request histogram’s count, summed over API instances.',
    unit: UNITS.requestsPerSecond,
    min: 0,
    w: 12,
    stacked: true,
    queries: [
      {
        expr: perSecond(apiCount(A.requestDuration), '{source!=""}', ['strategy', 'source']),
        legend: '{{strategy}} {{source}}',
      },
    ],
  }),
  timeseriesPanel({
    title: 'API read fallbacks to the primary',
    description:
      'Reads the primary answered instead of their strategy’s source, per second, by strategy and reason.',
    unit: UNITS.perSecond,
    min: 0,
    w: 12,
    queries: [
      {
        expr: perSecond(A.readFallbacks.name, '', ['strategy', 'reason']),
        legend: '{{strategy}}: {{reason}}',
      },
    ],
  }),
  timeseriesPanel({
    title: 'API request latency',
    description:
      'p99 of the API’s request duration by route, from its histogram (buckets summed over instances). Seconds.',
    unit: UNITS.seconds,
    min: 0,
    w: 6,
    queries: [
      { expr: bucketQuantile(0.99, apiBucket(A.requestDuration), '', ['route']), legend: 'p99 {{route}}' },
    ],
  }),
  timeseriesPanel({
    title: 'API cache and GTID waits',
    description:
      'Per second: cache lookups by result, GTID waits that timed out, and GTID fallbacks by reason.',
    unit: UNITS.perSecond,
    min: 0,
    w: 6,
    queries: [
      { expr: perSecond(A.cacheRequests.name, '', ['result']), legend: 'cache {{result}}' },
      { expr: perSecond(A.gtidWaitTimeouts.name, ''), legend: 'GTID-wait timeouts' },
      { expr: perSecond(A.gtidWaitFallbacks.name, '', ['reason']), legend: 'GTID fallback {{reason}}' },
    ],
  }),
  timeseriesPanel({
    title: 'API database pools',
    description: 'Database pool connections of the API by pool and state, summed over API instances. Count.',
    unit: UNITS.count,
    min: 0,
    w: 6,
    queries: [{ expr: `sum by (pool, state) (${A.poolConnections.name})`, legend: '{{pool}} {{state}}' }],
  }),
  timeseriesPanel({
    title: 'API deadlines, 503s and heartbeats',
    description:
      'Per second: database calls abandoned at the API deadline by pool and phase, 503 answers by the ' +
      'dependency that did not answer, and the heartbeats the API wrote by result.',
    unit: UNITS.perSecond,
    min: 0,
    w: 6,
    queries: [
      { expr: perSecond(A.dbTimeouts.name, '', ['pool', 'phase']), legend: 'timeout {{pool}} {{phase}}' },
      { expr: perSecond(A.unavailable.name, '', ['dependency']), legend: '503 {{dependency}}' },
      { expr: perSecond(A.heartbeats.name, '', ['result']), legend: 'heartbeat {{result}}' },
    ],
  }),
];

export function replicationDashboard(): dashboard.Dashboard {
  return houseDashboard({
    slug: 'replication',
    title: 'CQRS replication health',
    description:
      'Replica threads, lag and load from mysqld_exporter, and the API’s read sources from its /metrics.',
    variables: [datasourceVariable(), instanceVariable()],
    rows: [
      { title: 'Replication threads', panels: threads() },
      { title: 'Replica lag', panels: lag() },
      { title: 'Servers', panels: servers() },
      { title: 'API', panels: api() },
    ],
  });
}
