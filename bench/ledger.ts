/**
 * `npm run bench -- ledger`: what the acknowledgement ledger adds to the writer load the tool measures. On one
 * connection to the local stack's primary (like one VU's pool), rounds of raw single-row probe INSERTs and of
 * sql-write-load's own iteration (SqlStore.writeAndRecord: the INSERT plus the batched ledger, lib/ledger.ts)
 * alternate in one run; it prints acknowledged writes/s against raw inserts/s as a ratio (goal ≥ 0.9×) and the
 * writer statements per acknowledged write. Statements go through the synchronous test handle
 * (test/kit/sync-sql.ts), which both sides pay alike.
 */
import { dialectFor } from '../common/dialect.ts';
import { SqlStore } from '../lib/k6/sql-store.ts';
import { probePayload, SQL } from '../lib/sql/statements.ts';
import { type ProbeKey, probeTag } from '../lib/store.ts';
import { startTestStack } from '../test/kit/stack.ts';
import { openSyncSql } from '../test/kit/sync-sql.ts';

const ROUND_MS = 1000;
const ROUNDS = 7;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export default async function (): Promise<void> {
  const stack = await startTestStack();
  try {
    const writer = openSyncSql('writer', { ...stack.endpoints.writer });
    const reader = openSyncSql('reader', { ...stack.endpoints.reader });
    const store = new SqlStore(writer, reader, null, {
      dialect: dialectFor('mariadb'),
      strategy: 'eventual',
      payloadBytes: 64,
      gtidWaitSeconds: 2,
    });
    const payload = probePayload(64);
    let seq = 0;
    const key = (runner: string): ProbeKey => ({ runId: `bench-${process.pid}`, runner, vu: 1, seq: seq++ });
    const raw = () => {
      const k = key('raw');
      writer.exec('insert', SQL.insertProbe, probeTag(k), k.runId, k.runner, k.vu, k.seq, payload);
    };
    const acked = () => store.writeAndRecord(key('acked'));
    const perSecond = (fn: () => void) => {
      const t0 = performance.now();
      let n = 0;
      while (performance.now() - t0 < ROUND_MS) {
        fn();
        n++;
      }
      return (n * 1000) / (performance.now() - t0);
    };
    for (const fn of [raw, acked]) perSecond(fn); // warm-up
    const before = new Map(writer.counts);
    const rates = { raw: [] as number[], acked: [] as number[] };
    let ackedWrites = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first, so neither always meets a warmer server.
      const order = round % 2 === 0 ? (['raw', 'acked'] as const) : (['acked', 'raw'] as const);
      for (const v of order) {
        const rate = perSecond(v === 'raw' ? raw : acked);
        rates[v].push(rate);
        if (v === 'acked') ackedWrites += Math.round((rate * ROUND_MS) / 1000);
      }
    }
    store.flushAcks();
    const delta = (op: string) => (writer.counts.get(op) ?? 0) - (before.get(op) ?? 0);
    const ledgerStatements = delta('ledger');
    const rawRate = median(rates.raw);
    const ackedRate = median(rates.acked);
    console.log(`${ROUNDS} rounds of ${ROUND_MS} ms each, one connection to the primary (median):`);
    console.log(`  raw single-row INSERT           ${rawRate.toFixed(0).padStart(6)} /s`);
    console.log(`  acknowledged write (+ ledger)   ${ackedRate.toFixed(0).padStart(6)} /s`);
    console.log(`  ratio acknowledged / raw        ${(ackedRate / rawRate).toFixed(3)}× (goal ≥ 0.9×)`);
    console.log(
      `  ledger statements per acknowledged write: ${(ledgerStatements / Math.max(1, ackedWrites)).toFixed(4)} ` +
        `(${ledgerStatements} for ~${ackedWrites}; was 1 per write before batching)`,
    );
    writer.close();
    reader.close();
  } finally {
    await stack.down();
  }
}
