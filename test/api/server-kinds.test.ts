/**
 * The strategies an API serves follow its servers (CQRS_FLAVOR × CQRS_TOPOLOGY, common/topology.ts): a request
 * naming one they cannot serve is a 400 that says why, for reads and writes, decided before any pool is asked;
 * the alias gr-before acts as sync-before everywhere a strategy is named, and what the API reports (X-Read-*
 * headers, /metrics) is the canonical id.
 *
 * One real stack, an async MariaDB replica. Beside the fixture's API (what the stack is) run two more on the same
 * servers: one told its reader is a Galera node (`cluster`), one told the servers are MySQL. Neither is true, so
 * only their wiring is under test here, never causality: MariaDB takes `wsrep_sync_wait` without Galera and
 * does nothing with it. Real Galera reads are test/stack/cluster.test.ts's.
 */
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app.ts';
import { loadConfig } from '../../api/config.ts';
import { toEnv } from '../../common/endpoints.ts';
import { unavailableReason } from '../../common/strategies.ts';
import { type ApiFixture, eventually, startApiFixture, uniqueEmail } from './fixture.ts';

type App = Awaited<ReturnType<typeof buildApp>>;

let fx: ApiFixture;
/** CQRS_TOPOLOGY=cluster, default strategy given by its alias. */
let cluster: App;
/** CQRS_FLAVOR=mysql on async servers, without CQRS_ROUTER_SPLIT_URL. */
let mysqlAsync: App;

beforeAll(async () => {
  fx = await startApiFixture();
  const env = {
    ...toEnv(fx.stack.endpoints),
    CQRS_API_LOG_LEVEL: 'silent',
    // Nothing but the requests under test writes (the MySQL one would write MySQL heartbeats to MariaDB).
    CQRS_API_HEARTBEAT_INTERVAL_MS: '0',
  };
  cluster = await buildApp(
    loadConfig({ ...env, CQRS_TOPOLOGY: 'cluster', CQRS_API_DEFAULT_STRATEGY: 'gr-before' }),
  );
  mysqlAsync = await buildApp(loadConfig({ ...env, CQRS_FLAVOR: 'mysql', CQRS_TOPOLOGY: 'async' }));
}, 120_000);

afterAll(async () => {
  await cluster?.close();
  await mysqlAsync?.close();
  await fx?.close();
});

const get = (app: App, url: string, strategy?: string, extra: Record<string, string> = {}) =>
  app.inject({
    method: 'GET',
    url,
    headers: { ...(strategy ? { 'x-read-consistency': strategy } : {}), ...extra },
  });

const post = (app: App, email: string, strategy?: string) =>
  app.inject({
    method: 'POST',
    url: '/users',
    headers: strategy ? { 'x-read-consistency': strategy } : {},
    payload: { email, name: 'kinds' },
  });

async function userCount(email: string): Promise<number> {
  const conn = await createConnection({ uri: fx.config.writerUrl });
  try {
    const [rows] = await conn.execute<RowDataPacket[]>('SELECT COUNT(*) AS n FROM users WHERE email = ?', [
      email,
    ]);
    return Number(rows[0]?.n);
  } finally {
    await conn.end();
  }
}

describe('an API on an async MariaDB replica (CQRS_TOPOLOGY=async)', () => {
  const why = unavailableReason('sync-before', 'mariadb-async');

  it('answers sync-before, by its name or its alias, header or query, with a 400 that says why', async () => {
    expect(why).toBe(
      'strategy sync-before needs a synchronous cluster (MariaDB Galera or MySQL Group Replication); these servers are an async MariaDB replica (CQRS_TOPOLOGY=async)',
    );
    for (const res of [
      await get(fx.app, '/users/1', 'sync-before'),
      await get(fx.app, '/users/1', 'gr-before'),
      await get(fx.app, '/users/1?consistency=gr-before'),
      await get(fx.app, `/users?email=${encodeURIComponent('a@example.test')}&consistency=sync-before`),
      await get(fx.app, '/get', 'gr-before'),
    ]) {
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json()).toEqual({ statusCode: 400, error: 'Bad Request', message: why });
      expect(res.headers['x-read-source']).toBeUndefined();
    }
  });

  it('refuses a write that names it too, and writes nothing', async () => {
    const email = uniqueEmail('sync-write');
    const res = await post(fx.app, email, 'gr-before');
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toBe(why);
    expect(await userCount(email)).toBe(0);
  });

  it('answers router-split with the MariaDB reason, before its missing URL', async () => {
    const res = await get(fx.app, '/users/1', 'router-split');
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toBe(
      'strategy router-split needs MySQL Router (MySQL only); these servers are an async MariaDB replica (CQRS_FLAVOR=mariadb)',
    );
  });

  it('opens no sync-before connections', () => {
    expect(fx.app.strategyPools.syncBefore).toBeNull();
  });
});

describe('an API told its reader is a Galera node (CQRS_TOPOLOGY=cluster)', () => {
  it('answers gtid-wait with a 400 that says why, with a token or without', async () => {
    const why = unavailableReason('gtid-wait', 'mariadb-galera');
    expect(why).toMatch(/gtid_slave_pos.*\(CQRS_FLAVOR=mariadb, CQRS_TOPOLOGY=cluster\)$/);
    for (const res of [
      await get(cluster, '/users/1', 'gtid-wait'),
      await get(cluster, '/users/1', 'gtid-wait', { 'x-consistency-token': '0-1-1' }),
      await get(cluster, '/users/1?consistency=gtid-wait'),
    ]) {
      expect(res.statusCode).toBe(400);
      expect(res.json().message).toBe(why);
    }
  });

  it('sets wsrep_sync_wait=1 on every sync-before connection, and on no other pool', async () => {
    const own = cluster.strategyPools.syncBefore;
    expect(own).not.toBeNull();
    const [rows] = (await own?.query('SELECT @@SESSION.wsrep_sync_wait AS w')) ?? [[]];
    expect((rows as { w: number }[])[0]?.w).toBe(1);
    const [plain] = await cluster.reader.query('SELECT @@SESSION.wsrep_sync_wait AS w');
    expect((plain as { w: number }[])[0]?.w).toBe(0);
  });

  it('reads sync-before on the replica, named by its id, its alias or the default, reported as sync-before', async () => {
    const email = uniqueEmail('sync-read');
    const created = await post(cluster, email, 'eventual');
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json() as { id: number };
    // The replica is async really: wait until it has the row, so every read below finds it.
    expect(
      await eventually(async () => (await get(cluster, `/users/${id}`, 'eventual')).statusCode === 200),
    ).toBe(true);
    const reads = [
      await get(cluster, `/users/${id}`, 'sync-before'),
      await get(cluster, `/users/${id}`, 'gr-before'),
      await get(cluster, `/users/${id}?consistency=gr-before`),
      // CQRS_API_DEFAULT_STRATEGY=gr-before.
      await get(cluster, `/users/${id}`),
    ];
    for (const res of reads) {
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ id, email });
      expect(res.headers['x-read-strategy']).toBe('sync-before');
      expect(res.headers['x-read-source']).toBe('replica');
      expect(res.headers['x-read-fallback']).toBeUndefined();
    }
    // A write naming the alias goes to the writer, as every sync-before write does.
    expect((await post(cluster, uniqueEmail('sync-alias-write'), 'gr-before')).statusCode).toBe(201);

    const metrics = (await cluster.inject({ method: 'GET', url: '/metrics' })).body;
    const count = metrics
      .split('\n')
      .find(
        (l) =>
          l.startsWith('cqrs_api_request_duration_seconds_count{') &&
          l.includes('route="/users/:id"') &&
          l.includes('status="200"') &&
          l.includes('strategy="sync-before"') &&
          l.includes('source="replica"'),
      );
    expect(count, metrics).toBeDefined();
    expect(Number(count?.split(' ').at(-1))).toBe(reads.length);
    expect(metrics).toMatch(/^cqrs_api_pool_connections\{pool="syncBefore",state="total"\} [1-9]/m);
    // Only canonical ids are ever labels.
    expect(metrics).not.toContain('gr-before');
  });
});

describe('an API on async MySQL servers without CQRS_ROUTER_SPLIT_URL', () => {
  it('refuses sync-before for its servers, and router-split for its missing URL', async () => {
    const sync = await get(mysqlAsync, '/users/1', 'gr-before');
    expect(sync.statusCode).toBe(400);
    expect(sync.json().message).toBe(
      'strategy sync-before needs a synchronous cluster (MariaDB Galera or MySQL Group Replication); these servers are an async MySQL replica (CQRS_TOPOLOGY=async)',
    );
    const email = uniqueEmail('router');
    for (const res of [
      await get(mysqlAsync, '/users/1', 'router-split'),
      await post(mysqlAsync, email, 'router-split'),
    ]) {
      expect(res.statusCode).toBe(400);
      expect(res.json().message).toBe(
        'strategy router-split needs MySQL Router; set CQRS_ROUTER_SPLIT_URL on the API',
      );
    }
    expect(await userCount(email)).toBe(0);
  });
});
