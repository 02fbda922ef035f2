/**
 * `stack:lag freeze` on the cluster topology: holds FLUSH TABLES WITH READ LOCK on the reader node for as long
 * as this process lives. Galera then desyncs the node (so flow control does not hold back node 1's commits)
 * and pauses its applier: the writer keeps committing, the reader keeps answering from the state it had, and
 * a causal read (sync-before) waits until the thaw. It models a reader whose applier stalls, such as a node
 * under a backup lock; it is not a network delay. SIGTERM (`stack:lag thaw`, `stack:down`) ends the session,
 * which releases the lock, and the node catches up.
 *
 * Usage: reader-freeze.ts <socket> <user>. Prints `frozen` once the lock is held.
 */
import mysql from 'mysql2/promise';

async function main(socketPath: string, user: string): Promise<void> {
  const conn = await mysql.createConnection({ socketPath, user });
  await conn.query('FLUSH TABLES WITH READ LOCK');
  console.log('frozen');
  // Losing the session loses the lock: the node thaws, and there is nothing left to hold.
  conn.on('error', (err) => {
    console.error(`reader-freeze: the session ended (${err.message}); the reader thaws`);
    process.exit(1);
  });
  const thaw = () => {
    void conn
      .query('UNLOCK TABLES')
      .then(() => conn.end())
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', thaw).on('SIGINT', thaw);
  // Keep the event loop alive; a ping every 10 s also keeps wait_timeout from closing the session.
  setInterval(() => {
    conn.query('SELECT 1').catch(() => {});
  }, 10_000);
}

const [socketPath, user] = process.argv.slice(2);
if (!socketPath || !user) {
  console.error('usage: reader-freeze.ts <socket> <user>');
  process.exit(2);
}
main(socketPath, user).catch((err: unknown) => {
  console.error(`reader-freeze: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
