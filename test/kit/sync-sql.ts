/**
 * A synchronous SqlHandle (lib/sql/handle.ts) over real mysql2 connections, for Node tests and benchmarks
 * that run the k6-side code itself (SqlStore, the probe, the heartbeat sampler) against the real stack.
 * k6's SQL calls block the VU; here the calling thread blocks on a worker (synckit) instead. Each handle is
 * one connection, like a VU's default pool of one. Timing figures taken through it include the worker hop.
 */
import { fileURLToPath } from 'node:url';
import type { ConnectionOptions } from 'mysql2/promise';
import { createSyncFn } from 'synckit';
import { type DecodedRow, decodeRow } from '../../lib/decode.ts';
import type { SqlHandle } from '../../lib/sql/handle.ts';
import type { Endpoint } from '../../lib/store.ts';

type SyncSqlCall =
  | { op: 'open'; options: ConnectionOptions }
  | { op: 'exec' | 'query'; id: number; sql: string; args: unknown[] }
  | { op: 'close'; id: number };

type SyncSqlAnswer =
  | { ok: true; id?: number; rows?: Record<string, unknown>[]; lastInsertId?: number; rowsAffected?: number }
  | { ok: false; error: string; errno?: number };

const WORKER = fileURLToPath(new URL('./sync-sql.worker.mjs', import.meta.url));

let call: ((c: SyncSqlCall) => SyncSqlAnswer) | undefined;
function send(c: SyncSqlCall): SyncSqlAnswer & { ok: true } {
  call ??= createSyncFn<(c: SyncSqlCall) => Promise<SyncSqlAnswer>>(WORKER);
  const answer = call(c);
  if (!answer.ok) throw Object.assign(new Error(answer.error), { errno: answer.errno });
  return answer;
}

export interface SyncSqlHandle extends SqlHandle {
  /** Statements sent, by op (the ledger's statement count is what the tool adds to the writer's load). */
  readonly counts: Map<string, number>;
  close(): void;
}

export function openSyncSql(endpoint: Endpoint, options: ConnectionOptions): SyncSqlHandle {
  const { id } = send({ op: 'open', options });
  const counts = new Map<string, number>();
  const count = (op: string) => counts.set(op, (counts.get(op) ?? 0) + 1);
  const query = (op: string, sql: string, ...args: unknown[]): DecodedRow[] => {
    count(op);
    return (send({ op: 'query', id: id as number, sql, args }).rows ?? []).map((r) => decodeRow(r));
  };
  return {
    endpoint,
    counts,
    exec: (op, sql, ...args) => {
      count(op);
      const r = send({ op: 'exec', id: id as number, sql, args });
      return { lastInsertId: r.lastInsertId ?? 0, rowsAffected: r.rowsAffected ?? 0 };
    },
    query,
    queryQuiet: query,
    close: () => {
      send({ op: 'close', id: id as number });
    },
  };
}
