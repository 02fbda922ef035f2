/**
 * The baseline: the same database work without the API, as the application would make its own call. Closed
 * loops on mysql2 pools in this process, and the seeding both sides read.
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { newHistogram, type Result, summarise } from './result.ts';

/** `connections` workers, each awaiting one pool call after another, for `seconds`. */
export async function direct(
  label: string,
  work: () => Promise<unknown>,
  seconds: number,
  connections: number,
): Promise<Result> {
  const h = newHistogram();
  let ok = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        await work();
        h.record(Math.max(1, Math.round((performance.now() - t0) * 1000)));
        ok += 1;
      } catch {
        errors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  return summarise(label, h, ok, (performance.now() - started) / 1000, errors);
}

/** `users` rows (ids 1..users on a fresh stack), and waits until the replica has them all. */
export async function seed(writer: Pool, reader: Pool, users: number): Promise<void> {
  for (let i = 0; i < users; i += 500) {
    const rows = Array.from({ length: 500 }, (_, k) => [`seed-${i + k}@example.test`, `seed ${i + k}`]);
    await writer.query('INSERT INTO users (email, name) VALUES ?', [rows]);
  }
  // A benchmark read must never be a miss.
  for (;;) {
    const [rows] = await reader.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM users');
    if (Number(rows[0]?.n) >= users) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
