/**
 * `npm run stack:up | stack:down [-- --purge] | stack:status [-- --json] | stack:lag -- <value>`.
 * Every failure is one line on stderr and exit code 1.
 */
import { parseArgs } from 'node:util';
import { redact } from '../common/dsn.ts';
import { STACK_VARS } from '../config/stack.ts';
import { oneLine } from './errors.ts';
import { loadStackConfig, setLag, stackDown, stackStatus, stackUp } from './index.ts';
import { LAG_USAGE } from './lag.ts';

const USAGE = `usage: stack/cli.ts up [--topology async|cluster] | down [--purge] | status [--json] | lag <value>  (${LAG_USAGE})`;

async function main(argv: string[]): Promise<number> {
  // A lag value may look like an option ("-5ms"): hand it to the lag parser as it is, for a precise error.
  if (argv[0] === 'lag') {
    const rest = argv.slice(1).filter((a) => a !== '--');
    if (rest.length !== 1) throw new Error(`stack:lag takes one value; ${LAG_USAGE}`);
    console.log(await setLag(loadStackConfig(), rest[0] as string));
    return 0;
  }
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      purge: { type: 'boolean' },
      json: { type: 'boolean' },
      'state-dir': { type: 'string' },
      topology: { type: 'string' },
    },
  });
  const [command] = positionals;
  const stateDir = values['state-dir'];
  // --topology is CQRS_STACK_TOPOLOGY for this call, checked by the same schema (which reads '' as unset).
  if (values.topology === '') throw new Error(`--topology takes a value: ${STACK_VARS.topology.expected}`);
  const env =
    values.topology === undefined
      ? process.env
      : { ...process.env, [STACK_VARS.topology.name]: values.topology };
  const cfg = loadStackConfig(env, stateDir ? { stateDir } : {});
  const log = (line: string) => console.log(line);
  switch (command) {
    case 'up': {
      const up = await stackUp(cfg, log);
      console.log(
        `writer: ${up.endpoints.writer.user}@${up.endpoints.writer.host}:${up.endpoints.writer.port}`,
      );
      console.log(
        `reader: ${up.endpoints.reader.user}@${up.endpoints.reader.host}:${up.endpoints.reader.port}`,
      );
      console.log(`prometheus: ${up.endpoints.prometheusUrl}  redis: ${redact(up.endpoints.redisUrl)}`);
      return 0;
    }
    case 'down':
      await stackDown(cfg, { purge: values.purge ?? false }, log);
      return 0;
    case 'status': {
      const st = await stackStatus(cfg);
      if (values.json) {
        console.log(JSON.stringify(st, null, 2));
        return st.healthy ? 0 : 1;
      }
      console.log(`topology: ${st.topology}`);
      for (const s of st.services) {
        console.log(
          `${s.running ? '✓' : '✗'} ${s.name.padEnd(17)} ${s.running ? `pid ${s.pid}` : 'not running'}`,
        );
      }
      if (st.replication) {
        const r = st.replication;
        console.log(
          `replication: io=${r.ioRunning} sql=${r.sqlRunning} seconds_behind=${r.secondsBehind ?? 'NULL'}` +
            ` apply_delay=${r.applyDelaySeconds}s proxy_delay=${st.proxyDelayMs ?? '?'}ms${r.lastError ? ` error=${r.lastError}` : ''}`,
        );
        console.log(
          `replica lag now: ${st.replicaLagMs === null ? 'not visible within 5 s (frozen or broken?)' : `${st.replicaLagMs} ms (heartbeat, ${st.replicaLagBasis === 'apply-stamp' ? "the replica's apply stamp" : 'bracket of beats, ± half a beat'})`}`,
        );
      }
      if (st.cluster) {
        for (const n of st.cluster) {
          console.log(
            `${n.name}: ${n.state} (cluster ${n.clusterStatus}, size ${n.clusterSize}) recv_queue=${n.recvQueue}` +
              ` flow_control paused=${(n.flowControlPaused * 100).toFixed(1)}% sent=${n.flowControlSent} recv=${n.flowControlRecv}`,
          );
        }
        if (st.replicaLagMs !== undefined) {
          console.log(
            `reader lag now: ${st.replicaLagMs === null ? 'not visible within 5 s (frozen? npm run stack:lag -- thaw)' : `${st.replicaLagMs} ms (heartbeat from node1 to node2)`}`,
          );
        }
      }
      console.log(st.healthy ? 'stack: healthy' : 'stack: NOT healthy');
      return st.healthy ? 0 : 1;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`stack: ${oneLine(err)}`);
    process.exit(1);
  },
);
