/**
 * The read-consistency strategies, one vocabulary for the API, the k6 scenarios, dashboards and reports.
 * Runtime-neutral: imported by k6-side and Node-side code alike.
 */
export const STRATEGIES = [
  'eventual',
  'primary',
  'gtid-wait',
  'sticky',
  'cache',
  'gr-before',
  'router-split',
] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** Strategies that need MySQL-only server features (Group Replication, MySQL Router). */
export const MYSQL_ONLY_STRATEGIES: readonly Strategy[] = ['gr-before', 'router-split'];

/** Where a read was served from; the API reports it in `X-Read-Source`. */
export const READ_SOURCES = ['replica', 'primary', 'cache'] as const;
export type ReadSource = (typeof READ_SOURCES)[number];

export function isStrategy(value: string): value is Strategy {
  return (STRATEGIES as readonly string[]).includes(value);
}
