/**
 * The users table's SQL and row mapping, shared by the read side (api/read/) and the write side (api/write/);
 * it imports neither. Parameterised only (values never enter the SQL text): every statement goes through
 * mysql2 `execute`, i.e. server-side prepared statements cached per connection.
 */
import { type Dialect, epochUs } from '../../common/dialect.ts';
import type { Visibility } from '../../common/visibility.ts';

export const INSERT_USER = 'INSERT INTO users (email, name) VALUES (?, ?)';

const COLUMNS = 'id, email, name, created_at';

/** The primary's write time (NOW(6) at insert) in integer µs: mysql2's Dates only carry milliseconds. */
const createdUs = (t = '') => `${epochUs(`${t}created_at`)} AS created_us`;

/**
 * For replica reads (common/visibility.ts): write → visible there, from the replica's apply stamp (migration
 * 0004, a replica-only trigger) when it has one, else from the replica's time at this read (an upper bound).
 * Both clocks are the servers', never the client's.
 */
const VISIBILITY =
  'TIMESTAMPDIFF(MICROSECOND, created_at, COALESCE(applied_at, SYSDATE(6))) AS visibility_lag_us, ' +
  'applied_at IS NOT NULL AS apply_stamped';

export const SELECT_USER_BY_ID = `SELECT ${COLUMNS} FROM users WHERE id = ?`;
export const SELECT_USER_BY_EMAIL = `SELECT ${COLUMNS} FROM users WHERE email = ?`;
export const SELECT_VISIBLE_USER_BY_ID = `SELECT ${COLUMNS}, ${VISIBILITY} FROM users WHERE id = ?`;
export const SELECT_VISIBLE_USER_BY_EMAIL = `SELECT ${COLUMNS}, ${VISIBILITY} FROM users WHERE email = ?`;
/** The read-back of a created row on a fresh connection (createUser's fallback): the row and its write time. */
export const SELECT_CREATED_USER_BY_ID = `SELECT ${COLUMNS}, ${createdUs()} FROM users WHERE id = ?`;

/**
 * Run right after INSERT_USER on the same connection: the new row, its write time in µs and the write's GTID
 * in one round trip. The dialect's GTID statement becomes a derived table, so its flavour differences stay in
 * common/dialect.ts.
 */
export function selectCreatedUser(dialect: Dialect): string {
  return `SELECT u.id, u.email, u.name, u.created_at, ${createdUs('u.')}, g.gtid FROM users u CROSS JOIN (${dialect.lastWriteGtid}) g WHERE u.id = ?`;
}

export interface UserRow {
  id: number;
  email: string;
  name: string;
  created_at: Date | string;
}

/** A row of SELECT_CREATED_USER_BY_ID / selectCreatedUser. */
export interface CreatedUserRow extends UserRow {
  created_us: number | string | null;
}

/** A row of the SELECT_VISIBLE_* replica lookups. */
export interface VisibleUserRow extends UserRow {
  visibility_lag_us: number | string | null;
  apply_stamped: number | string | null;
}

export interface User {
  id: number;
  email: string;
  name: string;
  created_at: string;
}

/** Only the User fields: a row's extra columns (visibility, write time) never reach a response body. */
export function toUser(row: UserRow): User {
  const createdAt = row.created_at instanceof Date ? row.created_at.toISOString() : String(row.created_at);
  return { id: Number(row.id), email: row.email, name: row.name, created_at: createdAt };
}

/** The write time of a created row in µs; undefined when the server gave none. */
export function createdUsOf(row: CreatedUserRow): number | undefined {
  const us = row.created_us === null ? Number.NaN : Number(row.created_us);
  return Number.isFinite(us) ? us : undefined;
}

/**
 * A replica row's visibility. Clamped at 0: a negative difference only comes from clocks that disagree (the
 * primary and the replica on different hosts), and the header promises a non-negative lag.
 */
export function replicaVisibility(row: VisibleUserRow): Visibility | undefined {
  if (row.visibility_lag_us === null) return undefined;
  const lagUs = Number(row.visibility_lag_us);
  if (!Number.isFinite(lagUs)) return undefined;
  return {
    lagUs: Math.max(0, Math.round(lagUs)),
    basis: Number(row.apply_stamped) ? 'apply-stamp' : 'read-time',
  };
}

/**
 * An email as the users table compares it, for cache keys: the column's collation (utf8mb4's default,
 * utf8mb4_general_ci on MariaDB, utf8mb4_0900_ai_ci on MySQL) is case-insensitive, so `Ann@X.test` and
 * `ann@x.test` are one user and must be one key. Only ASCII letters are folded. That is exact for every address
 * the API takes (the `email` format admits ASCII only, and no spaces, so PAD SPACE never matters); a non-ASCII
 * address would keep its other characters, which can only cost a cache miss, never return another user's entry.
 */
export const collationKey = (email: string): string => email.replace(/[A-Z]+/g, (s) => s.toLowerCase());

/** Cache keys: one per way the API looks a user up. */
export const cacheKeys = {
  byId: (id: number | string) => `cqrs:user:id:${id}`,
  byEmail: (email: string) => `cqrs:user:email:${collationKey(email)}`,
};

/** One way of looking users up, as every read source runs it (api/read/select.ts). */
export interface Lookup {
  /** On the primary. */
  sql: string;
  /** Everywhere else: the same rows plus their visibility columns. */
  replicaSql: string;
  params: (string | number)[];
  cacheKey: string;
}

/** The lookups the read routes serve: each statement with the cache key its answer is stored under. */
export const userLookups = {
  byId: (id: string): Lookup => ({
    sql: SELECT_USER_BY_ID,
    replicaSql: SELECT_VISIBLE_USER_BY_ID,
    params: [id],
    cacheKey: cacheKeys.byId(id),
  }),
  byEmail: (email: string): Lookup => ({
    sql: SELECT_USER_BY_EMAIL,
    replicaSql: SELECT_VISIBLE_USER_BY_EMAIL,
    params: [email],
    cacheKey: cacheKeys.byEmail(email),
  }),
};
