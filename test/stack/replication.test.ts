import mysql, { type Connection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../kit/stack.ts';

let stack: TestStack;
let writer: Connection;
let reader: Connection;
let writerOnReplica: Connection;

const tag = (name: string) => `${name}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;

async function insertProbe(t: string): Promise<void> {
  await writer.execute('INSERT INTO probe_rows (tag, run_id, runner, vu, iter) VALUES (?, ?, ?, 0, 0)', [
    t,
    'test',
    '0',
  ]);
}

async function visibleOnReplica(t: string): Promise<boolean> {
  const [rows] = await reader.execute<RowDataPacket[]>('SELECT id FROM probe_rows WHERE tag = ?', [t]);
  return rows.length > 0;
}

/**
 * Writes a row and polls the replica over open connections. Returns ms until visible, counted from when the
 * INSERT was sent (nothing can reach the replica before that) and from its acknowledgement (what a client sees;
 * the primary ships the event at commit, a little before the ack reaches us).
 */
async function visibilityLagMs(): Promise<{ fromSend: number; fromAck: number }> {
  const t = tag('lag');
  const sent = performance.now();
  await insertProbe(t);
  const acked = performance.now();
  while (!(await visibleOnReplica(t))) {
    if (performance.now() - acked > 5000) throw new Error('row not visible within 5 s');
  }
  const now = performance.now();
  return { fromSend: now - sent, fromAck: now - acked };
}

beforeAll(async () => {
  stack = await startTestStack();
  const { writer: w, reader: r } = stack.endpoints;
  writer = await mysql.createConnection({ ...w });
  reader = await mysql.createConnection({ ...r });
  writerOnReplica = await mysql.createConnection({ ...w, port: r.port });
});

afterAll(async () => {
  await Promise.all([writer?.end(), reader?.end(), writerOnReplica?.end()]);
  await stack?.down();
});

describe('replicated pair', () => {
  it('makes a row written as writer on the primary visible to reader on the replica', async () => {
    const t = tag('visible');
    await insertProbe(t);
    // Poll for up to 5 s; the expect stands outside the loop, so it runs whether the row showed at once or never.
    const deadline = Date.now() + 5000;
    let seen = await visibleOnReplica(t);
    while (!seen && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      seen = await visibleOnReplica(t);
    }
    expect(seen).toBe(true);
  });

  it('refuses writes by reader with error 1142', async () => {
    await expect(
      reader.execute("INSERT INTO probe_rows (tag, run_id, runner, vu, iter) VALUES ('x', 'r', '0', 0, 0)"),
    ).rejects.toMatchObject({ errno: 1142 });
  });

  it('refuses writes by writer on the read-only replica with error 1290', async () => {
    await expect(
      writerOnReplica.execute(
        "INSERT INTO probe_rows (tag, run_id, runner, vu, iter) VALUES ('y', 'r', '0', 0, 0)",
      ),
    ).rejects.toMatchObject({ errno: 1290 });
  });

  it('delays visibility on the replica by the injected lag (50 ms → at least 50, under 80)', async () => {
    await stack.setLag('50ms');
    try {
      await visibilityLagMs(); // the first round after a change may straddle the old delay
      const rounds: { fromSend: number; fromAck: number }[] = [];
      for (let i = 0; i < 15; i++) rounds.push(await visibilityLagMs());
      const fromAck = rounds.map((r) => r.fromAck).sort((a, b) => a - b);
      const median = fromAck[Math.floor(fromAck.length / 2)] as number;
      expect(Math.min(...rounds.map((r) => r.fromSend))).toBeGreaterThanOrEqual(50);
      expect(median).toBeGreaterThanOrEqual(50);
      expect(median).toBeLessThan(80);
    } finally {
      await stack.setLag('0');
    }
  });

  it('keeps replica reads stale while frozen, and loses nothing after thaw', async () => {
    await stack.setLag('freeze');
    const tags = Array.from({ length: 50 }, (_, i) => tag(`frozen${i}`));
    try {
      for (const t of tags) await insertProbe(t);
      await new Promise((r) => setTimeout(r, 300));
      const [stale] = await reader.query<RowDataPacket[]>(
        'SELECT COUNT(*) AS n FROM probe_rows WHERE tag IN (?)',
        [tags],
      );
      expect(Number(stale[0]?.n)).toBe(0);
    } finally {
      await stack.setLag('thaw');
    }
    const deadline = Date.now() + 10_000;
    let seen = 0;
    while (seen < tags.length && Date.now() < deadline) {
      const [rows] = await reader.query<RowDataPacket[]>(
        'SELECT COUNT(*) AS n FROM probe_rows WHERE tag IN (?)',
        [tags],
      );
      seen = Number(rows[0]?.n);
    }
    expect(seen).toBe(tags.length);
  });

  it('supports whole-second apply delay (MASTER_DELAY)', async () => {
    await stack.setLag('apply-delay=2s');
    try {
      const { fromSend } = await visibilityLagMs();
      // The server adds the delay to the event's whole-second timestamp, so N seconds delay by N-1 to N s.
      expect(fromSend).toBeGreaterThan(1000);
      expect(fromSend).toBeLessThan(2500);
    } finally {
      await stack.setLag('apply-delay=0');
    }
  });
});
