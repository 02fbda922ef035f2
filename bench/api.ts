/**
 * `npm run bench -- api`: the CQRS API against the same work done directly with a mysql2 pool, side by side
 * in one run, at the same concurrency, on a stack of its own (random ports; the API runs as the stack runs it,
 * a separate `node --import tsx api/server.ts` process).
 *
 * - GET /users/:id (eventual) vs the same point select on a reader pool: throughput ratio, p50/p99 difference.
 * - POST /users vs a direct INSERT (and vs INSERT + the GTID select the API also makes).
 * - Each strategy's read throughput relative to eventual.
 *
 * HTTP load comes from autocannon; its own latency histogram has 1 ms resolution, so latencies are recorded
 * from its per-response timings into Node's µs histograms, the same kind the direct loops use.
 * Env: CQRS_BENCH_SECONDS (default 5), CQRS_BENCH_CONNECTIONS (default 10).
 */
import { readFileSync } from 'node:fs';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { createPool, type Pool, type ResultSetHeader, type RowDataPacket } from 'mysql2/promise';
import { INSERT_USER, SELECT_USER_BY_ID, selectCreatedUser } from '../api/users/sql.ts';
import { DIALECTS } from '../common/dialect.ts';
import type { Strategy } from '../common/strategies.ts';
import { mysqlUrl } from '../stack/endpoints.ts';
import { readRegistry } from '../stack/processes.ts';
import { startTestStack } from '../test/helpers/stack.ts';

const SECONDS = Number(process.env.CQRS_BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.CQRS_BENCH_CONNECTIONS ?? 10);
const SEED_USERS = 2000;
const WARMUP_SECONDS = 1;

interface Result {
  label: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU milliseconds per successful request, by process (where the time goes). */
  cpu?: Record<string, number>;
}

/** CPU time (ms) of the load generator (this process) and of every stack process, from /proc. */
function cpuSnapshot(pids: Record<string, number>): Record<string, number> {
  const ticksPerMs = 100 / 1000; // USER_HZ is 100 on Linux
  const out: Record<string, number> = {
    client: process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000,
  };
  for (const [name, pid] of Object.entries(pids)) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      out[name] = (Number(fields[11]) + Number(fields[12])) / ticksPerMs;
    } catch {
      out[name] = Number.NaN;
    }
  }
  return out;
}

let stackPids: Record<string, number> = {};

/** Runs one case and attaches its CPU cost per request. */
async function measured(run: () => Promise<Result>): Promise<Result> {
  const before = cpuSnapshot(stackPids);
  const result = await run();
  const after = cpuSnapshot(stackPids);
  const requests = result.rps * SECONDS;
  result.cpu = Object.fromEntries(
    Object.keys(after).map((k) => [k, ((after[k] ?? 0) - (before[k] ?? 0)) / requests]),
  );
  return result;
}

const newHistogram = () => createHistogram({ lowest: 1, highest: 60_000_000, figures: 3 });

function summarise(
  label: string,
  h: RecordableHistogram,
  count: number,
  seconds: number,
  errors: number,
): Result {
  return { label, rps: count / seconds, p50: h.percentile(50) / 1000, p99: h.percentile(99) / 1000, errors };
}

/** HTTP load over `connections` concurrent connections; `request` builds each request. */
async function http(
  label: string,
  url: string,
  request: () => { method: 'GET' | 'POST'; path: string; headers?: Record<string, string>; body?: string },
  seconds = SECONDS,
  connections = CONNECTIONS,
): Promise<Result> {
  const h = newHistogram();
  let ok = 0;
  let errors = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        duration: seconds,
        requests: [{ setupRequest: (req) => ({ ...req, ...request() }) }],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) {
        ok += 1;
        h.record(Math.max(1, Math.round(ms * 1000)));
      } else errors += 1;
    });
  });
  return summarise(label, h, ok, result.duration, errors + result.errors + result.timeouts);
}

/** The same closed loop without HTTP: CONNECTIONS workers, each awaiting one pool call after another. */
async function direct(
  label: string,
  work: () => Promise<unknown>,
  seconds = SECONDS,
  connections = CONNECTIONS,
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

const randomId = () => 1 + Math.floor(Math.random() * SEED_USERS);
let emailSeq = 0;
const freshEmail = (tag: string) => `bench-${tag}-${process.pid}-${Date.now()}-${emailSeq++}@example.test`;

async function seed(writer: Pool, reader: Pool): Promise<void> {
  for (let i = 0; i < SEED_USERS; i += 500) {
    const rows = Array.from({ length: 500 }, (_, k) => [`seed-${i + k}@example.test`, `seed ${i + k}`]);
    await writer.query('INSERT INTO users (email, name) VALUES ?', [rows]);
  }
  // Wait until the replica has every seeded row: a benchmark read must never be a miss.
  for (;;) {
    const [rows] = await reader.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM users');
    if (Number(rows[0]?.n) >= SEED_USERS) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const fmt = (n: number, digits = 2) => n.toFixed(digits);

const CPU_COLUMNS = ['client', 'api', 'primary', 'replica', 'redis'];

function table(results: Result[]): void {
  console.log(
    `${'case'.padEnd(44)} ${'req/s'.padStart(7)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} err | CPU µs/request: ${CPU_COLUMNS.join(' / ')}`,
  );
  for (const r of results) {
    const cpu = CPU_COLUMNS.map((c) => fmt((r.cpu?.[c] ?? 0) * 1000, 0)).join(' / ');
    console.log(
      `${r.label.padEnd(44)} ${fmt(r.rps, 0).padStart(7)} ${fmt(r.p50, 3).padStart(7)} ${fmt(r.p99, 3).padStart(7)} ${String(r.errors).padStart(3)} | ${cpu}`,
    );
  }
}

function compare(what: string, api: Result, base: Result): void {
  console.log(
    `${what}: throughput API/direct = ${fmt(api.rps / base.rps)}×, p50 +${fmt(api.p50 - base.p50, 3)} ms, ` +
      `p99 +${fmt(api.p99 - base.p99, 3)} ms`,
  );
}

export default async function benchApi(): Promise<void> {
  const stack = await startTestStack({ api: true });
  const url = stack.endpoints.apiUrl;
  const writer = createPool({ uri: mysqlUrl(stack.endpoints.writer), connectionLimit: CONNECTIONS });
  const reader = createPool({ uri: mysqlUrl(stack.endpoints.reader), connectionLimit: CONNECTIONS });
  try {
    await seed(writer, reader);
    const registry = readRegistry(stack.stateDir);
    stackPids = Object.fromEntries(
      ['api', 'primary', 'replica', 'redis'].flatMap((n) => (registry[n] ? [[n, registry[n].pid]] : [])),
    );
    console.log(
      `${CONNECTIONS} connections, ${SECONDS} s per case, ${SEED_USERS} users; API pools ${CONNECTIONS}; ` +
        'MariaDB primary+replica, Redis and the API on this machine',
    );
    const read =
      (strategy: Strategy, headers: Record<string, string> = {}) =>
      () => ({
        method: 'GET' as const,
        path: `/users/${randomId()}`,
        headers: { 'x-read-consistency': strategy, ...headers },
      });
    // Warm both paths (JIT, prepared statements, pool connections) before measuring either.
    await http('warmup', url, read('eventual'), WARMUP_SECONDS);
    await direct('warmup', () => reader.execute(SELECT_USER_BY_ID, [randomId()]), WARMUP_SECONDS);

    const apiRead = await measured(() => http('API GET /users/:id (eventual)', url, read('eventual')));
    const directRead = await measured(() =>
      direct('direct reader pool point select', () => reader.execute(SELECT_USER_BY_ID, [randomId()])),
    );
    // One connection each: the per-request overhead without queueing for the two shared cores.
    const apiReadSerial = await measured(() =>
      http('API GET /users/:id (eventual), 1 connection', url, read('eventual'), SECONDS, 1),
    );
    const directReadSerial = await measured(() =>
      direct(
        'direct point select, 1 connection',
        () => reader.execute(SELECT_USER_BY_ID, [randomId()]),
        SECONDS,
        1,
      ),
    );

    const post = () => ({
      method: 'POST' as const,
      path: '/users',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: freshEmail('api'), name: 'bench' }),
    });
    await http('warmup', url, post, WARMUP_SECONDS);
    const apiWrite = await measured(() => http('API POST /users', url, post));
    const directWrite = await measured(() =>
      direct('direct INSERT', () => writer.execute(INSERT_USER, [freshEmail('direct'), 'bench'])),
    );
    const gtidSql = selectCreatedUser(DIALECTS[stack.endpoints.flavor]);
    const directWriteGtid = await measured(() =>
      direct('direct INSERT + row/GTID select', async () => {
        const conn = await writer.getConnection();
        try {
          const [res] = await conn.execute<ResultSetHeader>(INSERT_USER, [freshEmail('gtid'), 'bench']);
          await conn.execute(gtidSql, [res.insertId]);
        } finally {
          conn.release();
        }
      }),
    );

    // A token the replica has already reached: gtid-wait's cost when there is nothing to wait for.
    const tokenRes = await fetch(`${url}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: freshEmail('token'), name: 'bench' }),
    });
    const token = tokenRes.headers.get('x-consistency-token') ?? '';
    await new Promise((r) => setTimeout(r, 200));
    // Cache: warm every seeded id first, so the run measures hits.
    await http('warmup', url, read('cache'), WARMUP_SECONDS * 2);
    const strategies: Result[] = [];
    for (const [strategy, headers] of [
      ['eventual', {}],
      ['primary', {}],
      ['gtid-wait', { 'x-consistency-token': token }],
      ['sticky', { 'x-client-id': 'bench-reader-without-writes' }],
      ['cache', {}],
    ] as [Strategy, Record<string, string>][]) {
      strategies.push(
        await measured(() => http(`API GET /users/:id (${strategy})`, url, read(strategy, headers))),
      );
    }

    console.log('');
    table([
      apiRead,
      directRead,
      apiReadSerial,
      directReadSerial,
      apiWrite,
      directWrite,
      directWriteGtid,
      ...strategies,
    ]);
    console.log('');
    compare(`read (eventual vs direct, ${CONNECTIONS} connections)`, apiRead, directRead);
    compare('read (eventual vs direct, 1 connection)', apiReadSerial, directReadSerial);
    compare('write (POST vs direct INSERT)', apiWrite, directWrite);
    compare('write (POST vs direct INSERT + GTID select)', apiWrite, directWriteGtid);
    const eventual = strategies[0] as Result;
    console.log(
      `strategy read throughput relative to eventual: ${strategies.map((s) => `${s.label.replace(/.*\((.*)\)/, '$1')} ${fmt(s.rps / eventual.rps)}×`).join(', ')}`,
    );
    console.log(
      `targets: API read throughput ≥ 0.70× direct → ${fmt(apiRead.rps / directRead.rps)}× ${apiRead.rps / directRead.rps >= 0.7 ? 'met' : 'MISSED'}; ` +
        `p50 overhead ≤ 1 ms → ${fmt(apiRead.p50 - directRead.p50, 3)} ms ${apiRead.p50 - directRead.p50 <= 1 ? 'met' : 'MISSED'}`,
    );
    // When the machine is CPU-bound, throughput is at most cores / (CPU per request, all processes summed).
    const cpuTotal = (r: Result) => Object.values(r.cpu ?? {}).reduce((a, b) => a + b, 0);
    console.log(
      `CPU per read, all processes: API path ${fmt(cpuTotal(apiRead) * 1000, 0)} µs ` +
        `(load generator ${fmt((apiRead.cpu?.client ?? 0) * 1000, 0)}, API ${fmt((apiRead.cpu?.api ?? 0) * 1000, 0)}), ` +
        `direct ${fmt(cpuTotal(directRead) * 1000, 0)} µs → CPU-bound ceiling of API/direct ≈ ${fmt(cpuTotal(directRead) / cpuTotal(apiRead))}×`,
    );
  } finally {
    await Promise.all([writer.end(), reader.end()]);
    await stack.down();
  }
}
