/**
 * `npm run bench -- api`: the CQRS API against the same work done directly with a mysql2 pool, side by side
 * in one run, at the same concurrency, on a stack of its own (random ports; the API runs as the stack runs it,
 * a separate `node --import tsx api/server.ts` process).
 *
 * - GET /users/:id (eventual) vs the same point select on a reader pool: throughput ratio, p50/p99 difference.
 * - POST /users vs a direct INSERT (and vs INSERT + the GTID select the API also makes).
 * - Each strategy's read throughput relative to eventual.
 *
 * HTTP load comes from `wrk` (Debian package `wrk`, C, one thread) when it is installed, else from autocannon
 * (Node). Everything shares two cores, so the load generator's own CPU is taken from the API side: wrk costs a
 * fraction of autocannon's, which is why it is preferred (see `describeSides`). Latencies are kept in µs
 * histograms on both sides (wrk's own, or Node's fed from autocannon's per-response timings).
 * Env: CQRS_BENCH_SECONDS (default 5), CQRS_BENCH_CONNECTIONS (default 10),
 * CQRS_BENCH_LOADGEN=wrk|autocannon (default: wrk if on PATH, else autocannon).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { createPool, type Pool, type ResultSetHeader, type RowDataPacket } from 'mysql2/promise';
import { INSERT_USER, SELECT_USER_BY_ID, selectCreatedUser } from '../api/users/sql.ts';
import { DIALECTS } from '../common/dialect.ts';
import { mysqlUrl } from '../common/endpoints.ts';
import type { Strategy } from '../common/strategies.ts';
import { which } from '../stack/binaries.ts';
import { readRegistry } from '../stack/processes.ts';
import { startTestStack } from '../test/kit/stack.ts';

const SECONDS = Number(process.env.CQRS_BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.CQRS_BENCH_CONNECTIONS ?? 10);
const SEED_USERS = 2000;
const WARMUP_SECONDS = 1;

type LoadGen = 'wrk' | 'autocannon';

function chooseLoadGen(): LoadGen {
  const wanted = process.env.CQRS_BENCH_LOADGEN;
  if (wanted === 'autocannon') return 'autocannon';
  if (which('wrk')) return 'wrk';
  if (wanted === 'wrk')
    throw new Error(
      'CQRS_BENCH_LOADGEN=wrk, but wrk is not on PATH (Debian package wrk: apt-get install -y wrk)',
    );
  if (wanted !== undefined && wanted !== '') {
    throw new Error(`CQRS_BENCH_LOADGEN must be wrk or autocannon, not ${wanted}`);
  }
  console.log(
    'wrk not found (Debian package: wrk); using autocannon, which costs the API side more client CPU',
  );
  return 'autocannon';
}

interface Result {
  label: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU milliseconds per successful request, by process (where the time goes). */
  cpu?: Record<string, number>;
}

const TICKS_PER_MS = 100 / 1000; // USER_HZ is 100 on Linux

/** utime+stime (and with `children`, the reaped children's too) of a process, in ms, from /proc. */
function procCpuMs(pid: number | 'self', children = false): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const own = Number(fields[11]) + Number(fields[12]);
    return (children ? own + Number(fields[13]) + Number(fields[14]) : own) / TICKS_PER_MS;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time (ms) of the client side and of every stack process. The client is this process (autocannon, or
 * the direct loops) plus its reaped children (each wrk run is waited for before the snapshot after it).
 */
function cpuSnapshot(pids: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = { client: procCpuMs('self', true) };
  for (const [name, pid] of Object.entries(pids)) out[name] = procCpuMs(pid);
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

/**
 * One kind of HTTP request, as data, so both load generators can build it: autocannon from JS, wrk from a
 * generated Lua script. GETs pick a random seeded id; POSTs send a fresh email each time.
 */
type RequestSpec =
  | { method: 'GET'; pathPrefix: string; randomIdUpTo: number; headers: Record<string, string> }
  | { method: 'POST'; path: string; emailTag: string; headers: Record<string, string> };

const userBody = (email: string) => JSON.stringify({ email, name: 'bench' });

/** HTTP load over `connections` concurrent keep-alive connections. */
function http(
  label: string,
  url: string,
  spec: RequestSpec,
  seconds = SECONDS,
  connections = CONNECTIONS,
): Promise<Result> {
  return loadGen === 'wrk'
    ? wrk(label, url, spec, seconds, connections)
    : autocannonRun(label, url, spec, seconds, connections);
}

let loadGen: LoadGen = 'autocannon';

async function autocannonRun(
  label: string,
  url: string,
  spec: RequestSpec,
  seconds: number,
  connections: number,
): Promise<Result> {
  const request = () =>
    spec.method === 'GET'
      ? { method: spec.method, path: `${spec.pathPrefix}${randomId()}`, headers: spec.headers }
      : {
          method: spec.method,
          path: spec.path,
          headers: spec.headers,
          body: userBody(freshEmail(spec.emailTag)),
        };
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

const lua = (s: string) => JSON.stringify(s); // a JSON string literal is a valid Lua string literal here

/** The Lua script for one wrk run: request generation (ids drawn up front) and a one-line result. */
function wrkScript(spec: RequestSpec): string {
  const headers = `{ ${Object.entries(spec.headers)
    .map(([k, v]) => `[${lua(k)}] = ${lua(v)}`)
    .join(', ')} }`;
  const request =
    spec.method === 'GET'
      ? `local ids = {}
for i = 1, 8192 do ids[i] = ${lua(spec.pathPrefix)} .. math.random(1, ${spec.randomIdUpTo}) end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", ids[(n % 8192) + 1], headers)
end`
      : `local n = 0
local prefix = ${lua(`{"email":"bench-${spec.emailTag}-${process.pid}-${Date.now()}-${emailSeq++}-`)}
request = function()
  n = n + 1
  return wrk.format("POST", ${lua(spec.path)}, headers, prefix .. n .. '@example.test","name":"bench"}')
end`;
  return `math.randomseed(os.time())
local headers = ${headers}
${request}
done = function(summary, latency, requests)
  local e = summary.errors
  io.stdout:write(string.format("WRK_RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
`;
}

/** One thread: wrk's event loop is far cheaper than what it drives, and a second thread would take a core. */
async function wrk(
  label: string,
  url: string,
  spec: RequestSpec,
  seconds: number,
  connections: number,
): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'cqrs-bench-wrk-'));
  try {
    const script = join(dir, 'bench.lua');
    writeFileSync(script, wrkScript(spec));
    const target = new URL(spec.method === 'GET' ? spec.pathPrefix : spec.path, url).href;
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
      execFile(
        'wrk',
        ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', script, target],
        (err, out, errOut) =>
          err
            ? reject(new Error(`wrk failed: ${errOut || err.message}`))
            : resolve({ stdout: out, stderr: errOut }),
      ),
    );
    const line = stdout.split('\n').find((l) => l.startsWith('WRK_RESULT '));
    if (!line) throw new Error(`wrk printed no result: ${stderr.trim() || stdout.trim()}`);
    const [requests, durationUs, p50Us, p99Us, badStatus, socketErrors] = line
      .split(' ')
      .slice(1)
      .map(Number);
    const ok = (requests ?? 0) - (badStatus ?? 0);
    return {
      label,
      rps: ok / ((durationUs ?? 1) / 1e6),
      p50: (p50Us ?? 0) / 1000,
      p99: (p99Us ?? 0) / 1000,
      errors: (badStatus ?? 0) + (socketErrors ?? 0),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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

/** What each side of a comparison includes, printed with the figures. */
function describeSides(): void {
  const gen =
    loadGen === 'wrk'
      ? 'wrk (C, 1 thread, keep-alive)'
      : 'autocannon (Node, keep-alive; install Debian package wrk for a cheaper client)';
  console.log(
    [
      'What each side includes (all processes share the same cores, so CPU spent anywhere lowers throughput):',
      `- API: load generator ${gen} -> HTTP/1.1 over loopback -> API process (Fastify routing, schema`,
      '  validation, strategy, mysql2 execute, JSON serialisation, metrics) -> replica.',
      '- direct: this Node process runs the same number of closed-loop workers, each awaiting mysql2',
      '  execute on a reader pool configured as in the API (trace off) -> replica. No HTTP and no separate',
      '  load generator: the loop is the application making its own database call, work the API also does.',
      'So the API side pays for an HTTP client the direct side does not have; that is inherent to comparing a',
      'service with a library call on one machine. wrk keeps that client cost small; the last line shows the',
      'CPU-bound ceiling with and without the load generator counted.',
    ].join('\n'),
  );
}

export default async function benchApi(): Promise<void> {
  loadGen = chooseLoadGen();
  const stack = await startTestStack({ api: true });
  const url = stack.endpoints.apiUrl;
  // trace: false as in api/plugins/mysql-pool.ts: both sides make the same mysql2 calls the same way.
  const pool = (u: string) => createPool({ uri: u, connectionLimit: CONNECTIONS, trace: false });
  const writer = pool(mysqlUrl(stack.endpoints.writer));
  const reader = pool(mysqlUrl(stack.endpoints.reader));
  try {
    await seed(writer, reader);
    const registry = readRegistry(stack.stateDir);
    stackPids = Object.fromEntries(
      ['api', 'primary', 'replica', 'redis'].flatMap((n) => (registry[n] ? [[n, registry[n].pid]] : [])),
    );
    console.log(
      `${CONNECTIONS} connections, ${SECONDS} s per case, ${SEED_USERS} users; API pools ${CONNECTIONS}; ` +
        `MariaDB primary+replica, Redis and the API on this machine (${availableParallelism()} cores); ` +
        `HTTP load from ${loadGen}`,
    );
    describeSides();
    const read = (strategy: Strategy, headers: Record<string, string> = {}): RequestSpec => ({
      method: 'GET',
      pathPrefix: '/users/',
      randomIdUpTo: SEED_USERS,
      headers: { 'x-read-consistency': strategy, ...headers },
    });
    const pointSelect = () => reader.execute(SELECT_USER_BY_ID, [randomId()]);
    // Warm both paths (JIT, prepared statements, pool connections) before measuring either.
    await http('warmup', url, read('eventual'), WARMUP_SECONDS);
    await direct('warmup', pointSelect, WARMUP_SECONDS);

    const apiRead = await measured(() => http('API GET /users/:id (eventual)', url, read('eventual')));
    const directRead = await measured(() => direct('direct reader pool point select', pointSelect));
    // One connection each: the per-request overhead without queueing for the two shared cores.
    const apiReadSerial = await measured(() =>
      http('API GET /users/:id (eventual), 1 connection', url, read('eventual'), SECONDS, 1),
    );
    const directReadSerial = await measured(() =>
      direct('direct point select, 1 connection', pointSelect, SECONDS, 1),
    );

    const post: RequestSpec = {
      method: 'POST',
      path: '/users',
      emailTag: 'api',
      headers: { 'content-type': 'application/json' },
    };
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
      body: userBody(freshEmail('token')),
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
    const loadGenCpu = apiRead.cpu?.client ?? 0;
    console.log(
      `CPU per read, all processes: API path ${fmt(cpuTotal(apiRead) * 1000, 0)} µs ` +
        `(load generator ${fmt(loadGenCpu * 1000, 0)}, API ${fmt((apiRead.cpu?.api ?? 0) * 1000, 0)}), ` +
        `direct ${fmt(cpuTotal(directRead) * 1000, 0)} µs → CPU-bound ceiling of API/direct ≈ ${fmt(cpuTotal(directRead) / cpuTotal(apiRead))}× ` +
        `(${fmt(cpuTotal(directRead) / (cpuTotal(apiRead) - loadGenCpu))}× if the load generator ran on another machine)`,
    );
  } finally {
    await Promise.all([writer.end(), reader.end()]);
    await stack.down();
  }
}
