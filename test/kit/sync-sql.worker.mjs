/**
 * The worker behind sync-sql.ts: holds real mysql2 connections and runs one statement per call, while the
 * calling thread blocks until the answer (synckit). Plain JavaScript: Node 20's worker threads do not take
 * the TypeScript loader. Calls and answers are typed in sync-sql.ts.
 */
import mysql from 'mysql2/promise';
import { runAsWorker } from 'synckit';

const connections = new Map();
let nextId = 1;

runAsWorker(async (call) => {
  try {
    switch (call.op) {
      case 'open': {
        const id = nextId++;
        connections.set(id, await mysql.createConnection(call.options));
        return { ok: true, id };
      }
      case 'exec': {
        const [res] = await connections.get(call.id).query(call.sql, call.args);
        return { ok: true, lastInsertId: res.insertId, rowsAffected: res.affectedRows };
      }
      case 'query': {
        const [rows] = await connections.get(call.id).query(call.sql, call.args);
        return { ok: true, rows: rows.map((r) => ({ ...r })) };
      }
      case 'close':
        await connections.get(call.id)?.end();
        connections.delete(call.id);
        return { ok: true };
      default:
        return { ok: false, error: `unknown call ${call.op}` };
    }
  } catch (err) {
    // Errors cross the thread boundary as data; the caller rethrows them.
    return { ok: false, error: err instanceof Error ? err.message : String(err), errno: err?.errno };
  }
});
