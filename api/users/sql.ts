/**
 * The users table's SQL, parameterised only (values never enter the SQL text). Every statement goes through
 * mysql2 `execute`, i.e. server-side prepared statements cached per connection.
 */
import type { Dialect } from '../../common/dialect.ts';
import type { Lookup } from '../read/execute.ts';

export const INSERT_USER = 'INSERT INTO users (email, name) VALUES (?, ?)';

const COLUMNS = 'id, email, name, created_at';

export const SELECT_USER_BY_ID = `SELECT ${COLUMNS} FROM users WHERE id = ?`;
export const SELECT_USER_BY_EMAIL = `SELECT ${COLUMNS} FROM users WHERE email = ?`;

/**
 * Run right after INSERT_USER on the same connection: the new row plus the write's GTID in one round trip.
 * The dialect's GTID statement becomes a derived table, so its flavour differences stay in common/dialect.ts.
 */
export function selectCreatedUser(dialect: Dialect): string {
  return `SELECT u.id, u.email, u.name, u.created_at, g.gtid FROM users u CROSS JOIN (${dialect.lastWriteGtid}) g WHERE u.id = ?`;
}

export interface UserRow {
  id: number;
  email: string;
  name: string;
  created_at: Date | string;
}

export interface User {
  id: number;
  email: string;
  name: string;
  created_at: string;
}

export function toUser(row: UserRow): User {
  const createdAt = row.created_at instanceof Date ? row.created_at.toISOString() : String(row.created_at);
  return { id: Number(row.id), email: row.email, name: row.name, created_at: createdAt };
}

/** Cache keys: one per way the API looks a user up. */
export const cacheKeys = {
  byId: (id: number | string) => `cqrs:user:id:${id}`,
  byEmail: (email: string) => `cqrs:user:email:${email}`,
};

/** The lookups the read routes serve: each statement with the cache key its answer is stored under. */
export const userLookups = {
  byId: (id: string): Lookup => ({ sql: SELECT_USER_BY_ID, params: [id], cacheKey: cacheKeys.byId(id) }),
  byEmail: (email: string): Lookup => ({
    sql: SELECT_USER_BY_EMAIL,
    params: [email],
    cacheKey: cacheKeys.byEmail(email),
  }),
};
