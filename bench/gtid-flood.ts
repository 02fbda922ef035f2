/**
 * `npm run bench -- gtid-flood`: one client floods gtid-wait with a token no server has (issue 8's reproduction:
 * `wrk -t1 -c50 -d10s` with `X-Consistency-Token: 0-1-18446744073709551615`) while another makes plain
 * `eventual` reads; those reads side by side with the same reads alone. The API runs as the
 * stack runs it (its own process, the defaults: 10 reader connections, 10 gtid-wait connections, 1 s wait
 * timeout). Before issue 8 each flood request held a reader connection for the whole wait, and the plain reads
 * queued behind them for seconds.
 * Env (config/bench.ts): CQRS_BENCH_SECONDS (default 5) per case, CQRS_BENCH_CONNECTIONS (default 10) for the
 * plain reads; three rounds of alone / during the flood, alternated.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { BENCH_VARS } from '../config/bench.ts';
import { pick, readEnv } from '../config/env.ts';
import { startTestStack } from '../test/kit/stack.ts';
import { median } from './lib/stats.ts';

const FLOOD_CONNECTIONS = 50;
const USERS = 200;
const FUTURE_TOKEN = '0-1-18446744073709551615';
const ROUNDS = 3;

interface Result {
  label: string;
  rps: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
}

/** Closed-loop GETs of random seeded users; latencies from every response, in a µs histogram. */
async function load(
  label: string,
  url: string,
  ids: number[],
  headers: Record<string, string>,
  connections: number,
  seconds: number,
): Promise<Result> {
  const h: RecordableHistogram = createHistogram({ lowest: 1, highest: 60_000_000, figures: 3 });
  const statuses: Record<string, number> = {};
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        duration: seconds,
        timeout: 30,
        requests: [
          {
            setupRequest: (req) => ({
              ...req,
              method: 'GET',
              path: `/users/${ids[Math.floor(Math.random() * ids.length)]}`,
              headers,
            }),
          },
        ],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
      h.record(Math.max(1, Math.round(ms * 1000)));
    });
  });
  const ok = statuses['200'] ?? 0;
  return {
    label,
    rps: ok / result.duration,
    p50: h.percentile(50) / 1000,
    p99: h.percentile(99) / 1000,
    statuses,
  };
}

const fmt = (n: number, digits = 2) => n.toFixed(digits);

export default async function benchGtidFlood(): Promise<void> {
  const { seconds, connections } = readEnv(pick(BENCH_VARS, 'seconds', 'connections'), process.env);
  const stack = await startTestStack({ api: true });
  const url = stack.endpoints.apiUrl;
  try {
    const ids: number[] = [];
    for (let i = 0; i < USERS; i++) {
      const res = await fetch(`${url}/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `flood-${process.pid}-${i}@example.test`, name: 'flood' }),
      });
      ids.push(((await res.json()) as { id: number }).id);
    }
    // Every seeded user on the replica before measuring: a plain read is never a miss.
    for (;;) {
      const res = await fetch(`${url}/users/${ids.at(-1)}`, {
        headers: { 'x-read-consistency': 'eventual' },
      });
      await res.arrayBuffer();
      if (res.status === 200) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const plain = { 'x-read-consistency': 'eventual' };
    const future = { 'x-read-consistency': 'gtid-wait', 'x-consistency-token': FUTURE_TOKEN };
    console.log(
      `${connections} connections of plain eventual reads, ${seconds} s per case; flood: ${FLOOD_CONNECTIONS} ` +
        `connections of gtid-wait with ${FUTURE_TOKEN}; API with its default pools and timeouts, on this machine`,
    );
    await load('warmup', url, ids, plain, connections, seconds);
    // Alternated rounds, medians reported: on a shared machine the load of others drifts between cases.
    const alone: Result[] = [];
    const flooded: Result[] = [];
    const floods: Result[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      alone.push(await load('eventual reads alone', url, ids, plain, connections, seconds));
      const [during, flood] = await Promise.all([
        load('eventual reads during the flood', url, ids, plain, connections, seconds),
        load('the flood (gtid-wait, future token)', url, ids, future, FLOOD_CONNECTIONS, seconds),
      ]);
      flooded.push(during);
      floods.push(flood);
    }
    const med = (rs: Result[], key: 'rps' | 'p50' | 'p99') => median(rs.map((r) => r[key]));
    console.log(
      `\n${'case (median of rounds)'.padEnd(40)} ${'req/s'.padStart(7)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}  p99 per round`,
    );
    for (const rs of [alone, flooded, floods]) {
      const rounds = rs.map((r) => fmt(r.p99, 1)).join(' / ');
      console.log(
        `${(rs[0] as Result).label.padEnd(40)} ${fmt(med(rs, 'rps'), 0).padStart(7)} ${fmt(med(rs, 'p50'), 3).padStart(8)} ${fmt(med(rs, 'p99'), 3).padStart(8)}  ${rounds}`,
      );
    }
    const statuses = floods.flatMap((r) => Object.entries(r.statuses).map(([s, n]) => `${s}×${n}`)).join(' ');
    console.log(
      `\nplain-read p99 during the flood / without it = ${fmt(med(flooded, 'p99') / med(alone, 'p99'))}× ` +
        `(target ≤ 2×); throughput ${fmt(med(flooded, 'rps') / med(alone, 'rps'))}× of alone; flood answers ${statuses}`,
    );
  } finally {
    await stack.down();
  }
}
