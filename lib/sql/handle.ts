/**
 * What the SQL store needs from one endpoint: statements named by `op` (for timing tags), decoded rows.
 * lib/k6/db.ts implements it on xk6-sql; tests implement it with scripted stubs. Runtime-neutral.
 */
import type { DecodedRow } from '../decode.ts';
import type { Endpoint } from '../store.ts';

export interface SqlHandle {
  readonly endpoint: Endpoint;
  exec(op: string, query: string, ...args: unknown[]): { lastInsertId: number; rowsAffected: number };
  query(op: string, query: string, ...args: unknown[]): DecodedRow[];
  /** Like query, but a failure is expected and handled by the caller, so it is not counted as an error. */
  queryQuiet(op: string, query: string, ...args: unknown[]): DecodedRow[];
}
