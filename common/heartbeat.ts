/**
 * Heartbeat replica lag: the SQL and the estimator, shared by the k6 sampler (lib/k6/sql-store.ts), the fake
 * store, `stack:status` and the API's /readyz, so every place that prints a replica lag means the same thing.
 * Runtime-neutral.
 *
 * Why not pt-heartbeat's "age of the newest beat on the replica": that age is the lag plus up to one beat
 * interval, and "replica age minus primary age" is the gap between the newest beats on the two sides, which is
 * 0 or one interval whenever the lag is below an interval (a beat in flight). Instead, with a short beat
 * history (heartbeat_log, migration 0004):
 * - the replica stamps each beat with its own apply time (common/dialect.ts replicaApplyStamps), so the newest
 *   beat it holds carries its exact apply lag, `applied - ts`;
 * - a beat the primary wrote that the replica still lacks is older than the lag, so its age on the replica's
 *   clock, `now - ts`, is a lower bound that keeps growing while the replica is stopped.
 * The estimate is the larger of the two: exact for a steady lag at any beat rate, growing with a frozen
 * replica. Without apply stamps (MySQL replicas) only the bracket (oldest missing age, newest age] is known;
 * its midpoint is reported and the error is at most half a beat interval.
 */

import { epochUs, SYSDATE_US } from './dialect.ts';

/** How long heartbeat_log keeps beats; a lag beyond this reads as at most this old. */
export const HEARTBEAT_RETENTION_S = 3600;

export const HEARTBEAT_SQL = {
  /**
   * On the primary, one beat: a history row. IGNORE: two writers in the same microsecond are one beat. The
   * pt-heartbeat row (`heartbeat`, kept for mysqld_exporter's heartbeat collector) is written by `beatRow`.
   */
  logBeat: `INSERT IGNORE INTO heartbeat_log (ts_us) VALUES (${epochUs('NOW(6)')})`,
  /**
   * pt-heartbeat shape: the primary stamps its own server_id row. GREATEST keeps it monotonic when heartbeat
   * writers race (a statement that took NOW(6) earlier but commits later must not move the heartbeat back).
   */
  beatRow:
    'INSERT INTO heartbeat (server_id, ts) VALUES (@@server_id, NOW(6)) ' +
    'ON DUPLICATE KEY UPDATE ts = GREATEST(ts, NOW(6))',
  /** On the primary, now and then: forget beats older than the retention (a range delete on the primary key). */
  prune: `DELETE FROM heartbeat_log WHERE ts_us < ${epochUs(`NOW(6) - INTERVAL ${HEARTBEAT_RETENTION_S} SECOND`)}`,
  /** On the primary: its time now, µs (anchors "beats of this run"). */
  now: `SELECT ${SYSDATE_US} AS now_us`,
  /**
   * On the replica: the newest beat it holds (`ts_us`), its apply stamp (`applied_us`, NULL without the
   * trigger) and the replica's time now (`now_us`). No row when no beat has replicated yet.
   */
  replicaNewest: `SELECT ts_us, applied_us, ${SYSDATE_US} AS now_us FROM heartbeat_log ORDER BY ts_us DESC LIMIT 1`,
  /** On the primary: the oldest beat newer than `?` µs, i.e. the oldest one a replica holding `?` lacks. */
  oldestAfter: 'SELECT MIN(ts_us) AS ts_us FROM heartbeat_log WHERE ts_us > ?',
} as const;

/** One heartbeat, as every writer of them sends it (k6, the API, stack:status): the history row, then pt's row. */
export const BEAT_STATEMENTS: readonly string[] = [HEARTBEAT_SQL.logBeat, HEARTBEAT_SQL.beatRow];

/** The replica's newest beat as HEARTBEAT_SQL.replicaNewest returns it. */
export interface ReplicaBeat {
  readonly tsUs: number;
  /** The replica's apply time of that beat; null without apply stamps. */
  readonly appliedUs: number | null;
  /** The replica's clock when it answered. */
  readonly nowUs: number;
}

export type HeartbeatBasis = 'apply-stamp' | 'bracket';

export interface HeartbeatEstimate {
  readonly lagUs: number;
  readonly basis: HeartbeatBasis;
  /** The newest beat the replica holds (µs), for monotonic-read checks. */
  readonly beatUs: number;
}

/**
 * Replica lag from the replica's newest beat and the primary's oldest beat after it (null when the replica
 * has the newest). `fromUs`: beats before it belong to an earlier run; until one of this run's beats has
 * reached the replica there is no estimate (an old heartbeat would read as minutes of lag).
 */
export function estimateHeartbeatLag(
  newest: ReplicaBeat | null,
  oldestMissingUs: number | null,
  fromUs: number,
): HeartbeatEstimate | null {
  if (newest === null || newest.tsUs < fromUs) return null;
  // A beat written after the replica answered is not missing yet: its "age" would be negative.
  const missingAge = oldestMissingUs === null ? 0 : Math.max(0, newest.nowUs - oldestMissingUs);
  if (newest.appliedUs !== null) {
    return {
      lagUs: Math.max(newest.appliedUs - newest.tsUs, missingAge),
      basis: 'apply-stamp',
      beatUs: newest.tsUs,
    };
  }
  const newestAge = Math.max(missingAge, newest.nowUs - newest.tsUs);
  return { lagUs: (missingAge + newestAge) / 2, basis: 'bracket', beatUs: newest.tsUs };
}

/** A cell that may come back as a number, a numeric string or a bigint; null for NULL. */
function num(cell: unknown): number | null {
  if (cell === null || cell === undefined || cell === '') return null;
  const n = Number(cell);
  return Number.isFinite(n) ? n : null;
}

/** Decodes a replicaNewest row (any driver's cells); null for no row or no beat. */
export function replicaBeatFromRow(row: Readonly<Record<string, unknown>> | undefined): ReplicaBeat | null {
  if (!row) return null;
  const tsUs = num(row.ts_us);
  const nowUs = num(row.now_us);
  if (tsUs === null || nowUs === null) return null;
  return { tsUs, appliedUs: num(row.applied_us), nowUs };
}

/** Decodes an oldestAfter row: null when the replica has the newest beat. */
export function oldestMissingFromRow(row: Readonly<Record<string, unknown>> | undefined): number | null {
  return row ? num(row.ts_us) : null;
}

/** Rows of one statement through an async driver; null when that side could not answer. */
export type RowsQuery = (
  sql: string,
  args?: (string | number)[],
) => Promise<readonly Readonly<Record<string, unknown>>[] | null>;

/**
 * The sampler's two queries through async drivers (the API's /readyz, stack:status): the replica's newest beat,
 * then, once it holds one of the beats since `fromUs`, the oldest beat the primary has after it. `estimate` is
 * null until then, or when the primary could not answer (nobody can say then which beats the replica lacks).
 * The k6 sampler runs the same two statements synchronously (lib/k6/sql-store.ts).
 */
export async function sampleHeartbeatLag(
  replica: RowsQuery,
  primary: RowsQuery,
  fromUs: number,
): Promise<{ newest: ReplicaBeat | null; estimate: HeartbeatEstimate | null }> {
  const newest = replicaBeatFromRow((await replica(HEARTBEAT_SQL.replicaNewest))?.[0]);
  if (newest === null || newest.tsUs < fromUs) return { newest, estimate: null };
  const missing = await primary(HEARTBEAT_SQL.oldestAfter, [newest.tsUs]);
  if (missing === null) return { newest, estimate: null };
  return { newest, estimate: estimateHeartbeatLag(newest, oldestMissingFromRow(missing[0]), fromUs) };
}
