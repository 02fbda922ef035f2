/**
 * The mysqld_exporter series the dashboards read, pinned. Read from a running prometheus-mysqld-exporter
 * 0.14.0 (Debian) scraping the local stack's MariaDB primary and replica, started as the stack starts it
 * (stack/prometheus.ts: --collect.slave_status, --collect.heartbeat). The names test holds every query to this
 * list, so a name the exporter does not have cannot slip into a panel.
 *
 * The exporter names replica series after the status columns (lowercased, under `slave_status_`). MySQL 8.4 has
 * only SHOW REPLICA STATUS, whose columns are renamed (Replica_IO_Running, Seconds_Behind_Source), so an
 * exporter that queries it names those series `…_replica_io_running`, `…_seconds_behind_source`: the renamed
 * columns are pinned in both spellings and queried as either. Only the first spelling was seen here (MariaDB);
 * the second follows from the column names, not from a run against MySQL 8.4.
 */
export const MYSQLD_EXPORTER = {
  /** 1 when the exporter reached its server. */
  up: 'mysql_up',
  // SHOW SLAVE STATUS / SHOW REPLICA STATUS (replica only): [MariaDB and MySQL ≤ 8.0, MySQL 8.4].
  ioRunning: ['mysql_slave_status_slave_io_running', 'mysql_slave_status_replica_io_running'],
  sqlRunning: ['mysql_slave_status_slave_sql_running', 'mysql_slave_status_replica_sql_running'],
  secondsBehind: ['mysql_slave_status_seconds_behind_master', 'mysql_slave_status_seconds_behind_source'],
  relayLogSpace: 'mysql_slave_status_relay_log_space',
  lastIoErrno: 'mysql_slave_status_last_io_errno',
  lastSqlErrno: 'mysql_slave_status_last_sql_errno',
  // The heartbeat table the API writes on the primary (pt-heartbeat layout), read on each server.
  heartbeatNow: 'mysql_heartbeat_now_timestamp_seconds',
  heartbeatStored: 'mysql_heartbeat_stored_timestamp_seconds',
  // SHOW GLOBAL STATUS / VARIABLES.
  questions: 'mysql_global_status_questions',
  threadsConnected: 'mysql_global_status_threads_connected',
  threadsRunning: 'mysql_global_status_threads_running',
  maxConnections: 'mysql_global_variables_max_connections',
} as const;

export const MYSQLD_EXPORTER_NAMES: readonly string[] = Object.values(MYSQLD_EXPORTER).flat();

/** A series selector for an exporter series pinned in one or both spellings, with `matchers`. */
export function exporterSeries(name: string | readonly string[], ...matchers: string[]): string {
  if (typeof name === 'string') return `${name}{${matchers.join(', ')}}`;
  return `{${[`__name__=~"${name.join('|')}"`, ...matchers].join(', ')}}`;
}
