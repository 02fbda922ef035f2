/**
 * `npm run bench -- api`: the CQRS API against the same work done directly with a mysql2 pool, side by side
 * in one run, at the same concurrency, on a stack of its own (random ports; the API runs as the stack runs it,
 * a separate `node --import tsx api/server.ts` process).
 *
 * - GET /users/:id (eventual) vs the same point select on a reader pool: throughput ratio, p50/p99 difference.
 * - POST /users vs a direct INSERT (and vs INSERT + the GTID select the API also makes).
 * - Each strategy's read throughput relative to eventual.
 *
 * HTTP load comes from wrk when it is installed, else from autocannon (bench/api/load-gen.ts); the direct
 * side is closed loops in this process (bench/api/direct.ts). Latencies are kept in µs histograms on both
 * sides (wrk's own, or Node's fed from autocannon's per-response timings), CPU per request from /proc
 * (bench/api/cpu.ts), and bench/api/report.ts prints the figures.
 * Env (config/bench.ts): CQRS_BENCH_SECONDS (default 5), CQRS_BENCH_CONNECTIONS (default 10),
 * CQRS_BENCH_LOADGEN=wrk|autocannon (default: wrk if on PATH, else autocannon).
 */
import { availableParallelism } from 'node:os';
import { createPool, type ResultSetHeader } from 'mysql2/promise';
import { INSERT_USER, SELECT_USER_BY_ID, selectCreatedUser } from '../api/users/sql.ts';
import { DIALECTS } from '../common/dialect.ts';
import { mysqlUrl } from '../common/endpoints.ts';
import { LOCAL_STACK_STRATEGIES, type Strategy, usesInput } from '../common/strategies.ts';
import { BENCH_VARS } from '../config/bench.ts';
import { pick, readEnv } from '../config/env.ts';
import { readRegistry } from '../stack/processes.ts';
import { startTestStack } from '../test/kit/stack.ts';
import { measured } from './api/cpu.ts';
import { direct, seed } from './api/direct.ts';
import { chooseLoadGen, httpLoad } from './api/load-gen.ts';
import { describeSides, report } from './api/report.ts';
import { freshEmail, type RequestSpec, randomId, userBody } from './api/requests.ts';
import type { Result } from './api/result.ts';

const SEED_USERS = 2000;
const WARMUP_SECONDS = 1;

export default async function benchApi(): Promise<void> {
  const cfg = readEnv(pick(BENCH_VARS, 'seconds', 'connections', 'loadGen'), process.env);
  const loadGen = chooseLoadGen(cfg.loadGen);
  const stack = await startTestStack({ api: true });
  const url = stack.endpoints.apiUrl;
  // trace: false as in api/plugins/mysql-pool.ts: both sides make the same mysql2 calls the same way.
  const pool = (u: string) => createPool({ uri: u, connectionLimit: cfg.connections, trace: false });
  const writer = pool(mysqlUrl(stack.endpoints.writer));
  const reader = pool(mysqlUrl(stack.endpoints.reader));
  const http = (label: string, spec: RequestSpec, seconds = cfg.seconds, connections = cfg.connections) =>
    httpLoad(loadGen, { label, url, spec, seconds, connections });
  try {
    await seed(writer, reader, SEED_USERS);
    const registry = readRegistry(stack.stateDir);
    const stackPids = Object.fromEntries(
      ['api', 'primary', 'replica', 'redis'].flatMap((n) => (registry[n] ? [[n, registry[n].pid]] : [])),
    );
    const measure = (run: () => Promise<Result>) => measured(stackPids, cfg.seconds, run);
    console.log(
      `${cfg.connections} connections, ${cfg.seconds} s per case, ${SEED_USERS} users; API pools ${cfg.connections}; ` +
        `MariaDB primary+replica, Redis and the API on this machine (${availableParallelism()} cores); ` +
        `HTTP load from ${loadGen}`,
    );
    describeSides(loadGen);
    const read = (strategy: Strategy, headers: Record<string, string> = {}): RequestSpec => ({
      method: 'GET',
      pathPrefix: '/users/',
      randomIdUpTo: SEED_USERS,
      headers: { 'x-read-consistency': strategy, ...headers },
    });
    const pointSelect = () => reader.execute(SELECT_USER_BY_ID, [randomId(SEED_USERS)]);
    // Warm both paths (JIT, prepared statements, pool connections) before measuring either.
    await http('warmup', read('eventual'), WARMUP_SECONDS);
    await direct('warmup', pointSelect, WARMUP_SECONDS, cfg.connections);

    const apiRead = await measure(() => http('API GET /users/:id (eventual)', read('eventual')));
    const directRead = await measure(() =>
      direct('direct reader pool point select', pointSelect, cfg.seconds, cfg.connections),
    );
    // One connection each: the per-request overhead without queueing for the two shared cores.
    const apiReadSerial = await measure(() =>
      http('API GET /users/:id (eventual), 1 connection', read('eventual'), cfg.seconds, 1),
    );
    const directReadSerial = await measure(() =>
      direct('direct point select, 1 connection', pointSelect, cfg.seconds, 1),
    );

    const post: RequestSpec = {
      method: 'POST',
      path: '/users',
      emailTag: 'api',
      headers: { 'content-type': 'application/json' },
    };
    await http('warmup', post, WARMUP_SECONDS);
    const apiWrite = await measure(() => http('API POST /users', post));
    const directWrite = await measure(() =>
      direct(
        'direct INSERT',
        () => writer.execute(INSERT_USER, [freshEmail('direct'), 'bench']),
        cfg.seconds,
        cfg.connections,
      ),
    );
    const gtidSql = selectCreatedUser(DIALECTS[stack.endpoints.flavor]);
    const directWriteGtid = await measure(() =>
      direct(
        'direct INSERT + row/GTID select',
        async () => {
          const conn = await writer.getConnection();
          try {
            const [res] = await conn.execute<ResultSetHeader>(INSERT_USER, [freshEmail('gtid'), 'bench']);
            await conn.execute(gtidSql, [res.insertId]);
          } finally {
            conn.release();
          }
        },
        cfg.seconds,
        cfg.connections,
      ),
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
    await http('warmup', read('cache'), WARMUP_SECONDS * 2);
    const strategies: Result[] = [];
    // Every strategy the local stack can serve, from the registry, with the request input its plan reads.
    const inputs = (s: Strategy): Record<string, string> => ({
      ...(usesInput(s, 'token') ? { 'x-consistency-token': token } : {}),
      ...(usesInput(s, 'write-window') ? { 'x-client-id': 'bench-reader-without-writes' } : {}),
    });
    for (const [strategy, headers] of LOCAL_STACK_STRATEGIES.map((s) => [s, inputs(s)] as const)) {
      strategies.push(await measure(() => http(`API GET /users/:id (${strategy})`, read(strategy, headers))));
    }

    report({
      connections: cfg.connections,
      apiRead,
      directRead,
      apiReadSerial,
      directReadSerial,
      apiWrite,
      directWrite,
      directWriteGtid,
      strategies,
    });
  } finally {
    await Promise.all([writer.end(), reader.end()]);
    await stack.down();
  }
}
