/**
 * The cluster topology against real servers: three MariaDB Galera nodes on loopback (Debian galera-4 and
 * rsync), brought up, measured through the project's own probe code and through the API, frozen and thawed,
 * restarted, and taken down with nothing left running.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../common/config-error.ts';
import { dialectFor } from '../../common/dialect.ts';
import { syncBeforeSessionSql } from '../../common/mysql-strategies.ts';
import type { SqlProbeStrategy } from '../../common/strategies.ts';
import { SqlStore } from '../../lib/k6/sql-store.ts';
import { runProbe } from '../../lib/probe.ts';
import type { Clock, ProbeKey } from '../../lib/store.ts';
import { NODE_PORTS } from '../../stack/galera.ts';
import { loadStackConfig, StackError, setLag, stackDown, stackStatus, stackUp } from '../../stack/index.ts';
import { adminConnection, instanceFor, type NodeName } from '../../stack/mysqld.ts';
import { isRunning, readRegistry } from '../../stack/processes.ts';
import { processesMentioning } from '../helpers/processes.ts';
import { startTestStack, type TestStack, testStackConfig } from '../kit/stack.ts';
import { openSyncSql, type SyncSqlHandle } from '../kit/sync-sql.ts';

const PROBES = 2000;
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ topology: 'cluster', api: true });
}, 120_000);

afterAll(async () => {
  await stack?.down();
});

const node = (name: NodeName) => instanceFor(stack.cfg.stateDir, name, stack.cfg.ports[NODE_PORTS[name].sql]);

const wallClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => {
    if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  },
};

/** The k6 scenarios' store over real connections: writer on node 1, reader on node 2 (one connection each). */
function probeStore(strategy: SqlProbeStrategy, readerSessionSql: readonly string[]) {
  const handles: SyncSqlHandle[] = [
    openSyncSql('writer', { ...stack.endpoints.writer }),
    openSyncSql('reader', { ...stack.endpoints.reader }),
  ];
  const [writer, reader] = handles as [SyncSqlHandle, SyncSqlHandle];
  for (const sql of readerSessionSql) reader.exec('session', sql);
  const store = new SqlStore(writer, reader, null, {
    dialect: dialectFor('mariadb'),
    strategy,
    payloadBytes: 16,
    gtidWaitSeconds: 1,
  });
  return {
    store,
    close: () => {
      for (const h of handles) h.close();
    },
  };
}

function probeBurst(strategy: SqlProbeStrategy, readerSessionSql: readonly string[], testId: string) {
  const { store, close } = probeStore(strategy, readerSessionSql);
  let stale = 0;
  let seen = 0;
  try {
    for (let i = 0; i < PROBES; i++) {
      const key: ProbeKey = { runId: testId, runner: '0', vu: 1, seq: i };
      const o = runProbe(store, wallClock, key, { timeoutMs: 2000, pollIntervalMs: 0 });
      if (o.stale) stale++;
      if (!o.timedOut && o.readError === null) seen++;
    }
    store.flushAcks();
  } finally {
    close();
  }
  return { stale, seen };
}

async function api(path: string, init: RequestInit = {}) {
  return fetch(`${stack.endpoints.apiUrl}${path}`, init);
}

async function createUser(i: number, tag: string): Promise<number> {
  const res = await api('/users', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: `u${i}`, email: `${tag}-${i}@example.test` }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: number }).id;
}

/** Reads on the API's /metrics that a strategy served, by source. */
async function readsServed(strategy: string): Promise<Record<string, number>> {
  const text = await (await api('/metrics')).text();
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('cqrs_api_request_duration_seconds_count{')) continue;
    if (!line.includes(`strategy="${strategy}"`) || !line.includes('route="/users/:id"')) continue;
    const source = /source="([^"]+)"/.exec(line)?.[1] ?? '?';
    out[source] = (out[source] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return out;
}

describe('the cluster topology: three Galera nodes on loopback', () => {
  it('comes up Synced with three members, the schema on every node, and only node 1 taking writes', async () => {
    const status = await stackStatus(stack.cfg);
    expect(status.topology).toBe('cluster');
    expect(status.healthy).toBe(true);
    expect(status.cluster?.map((n) => [n.name, n.state, n.clusterStatus, n.clusterSize])).toEqual([
      ['node1', 'Synced', 'Primary', 3],
      ['node2', 'Synced', 'Primary', 3],
      ['node3', 'Synced', 'Primary', 3],
    ]);
    // The heartbeat estimator works on the cluster: node 2 stamps what its applier applies.
    expect(status.replicaLagMs).toBeTypeOf('number');
    expect(status.replicaLagBasis).toBe('apply-stamp');
    expect(stack.endpoints.topology).toBe('cluster');

    const writer = await mysql.createConnection({ ...stack.endpoints.writer });
    try {
      await writer.query('INSERT INTO users (name, email) VALUES (?, ?)', ['n', 'replicated@example.test']);
    } finally {
      await writer.end();
    }
    for (const name of ['node2', 'node3'] as const) {
      const conn = await adminConnection(node(name));
      try {
        await conn.query('SET SESSION wsrep_sync_wait = 1');
        const [rows] = await conn.query<RowDataPacket[]>(
          "SELECT COUNT(*) AS n FROM cqrs.users WHERE email = 'replicated@example.test'",
        );
        expect(rows[0]?.n).toBe(1);
      } finally {
        await conn.end();
      }
    }
    // The readers are read-only for clients, as Group Replication's secondaries in single-primary mode.
    const onReader = await mysql.createConnection({
      ...stack.endpoints.writer,
      port: stack.cfg.ports.replica,
    });
    try {
      await expect(
        onReader.query("INSERT INTO users (name, email) VALUES ('x', 'x@example.test')"),
      ).rejects.toMatchObject({
        errno: 1290,
      });
    } finally {
      await onReader.end();
    }
  });

  it('refuses to start the async topology in the same state folder while the cluster runs', async () => {
    await expect(stackUp({ ...stack.cfg, topology: 'async' })).rejects.toThrow(
      /runs the cluster topology; stop it first \(npm run stack:down\)/,
    );
  });

  it(`sees stale reads without sync wait, and none in ${PROBES} probes with wsrep_sync_wait=1 (the probe code)`, () => {
    const eventual = probeBurst('eventual', [], 'cluster-eventual');
    // The rate depends on the machine; that there are some is the point.
    expect(eventual.stale).toBeGreaterThan(0);
    expect(eventual.seen).toBe(PROBES);

    const causal = probeBurst('sync-before', syncBeforeSessionSql('mariadb'), 'cluster-sync');
    expect(causal).toEqual({ stale: 0, seen: PROBES });
  }, 180_000);

  it(`serves sync-before through the API: replica reads, labelled and counted, 0 stale in ${PROBES}`, async () => {
    const before = (await readsServed('sync-before')).replica ?? 0;
    let stale = 0;
    for (let i = 0; i < PROBES; i++) {
      const id = await createUser(i, 'api-sync');
      const res = await api(`/users/${id}`, { headers: { 'x-read-consistency': 'sync-before' } });
      if (res.status === 404) stale++;
      else expect(res.status).toBe(200);
      if (i === 0) {
        expect(res.headers.get('x-read-strategy')).toBe('sync-before');
        expect(res.headers.get('x-read-source')).toBe('replica');
      }
      await res.arrayBuffer();
    }
    expect(stale).toBe(0);
    expect(((await readsServed('sync-before')).replica ?? 0) - before).toBe(PROBES);

    // The old id is an alias: it reads the same way and is reported under the one name.
    const id = await createUser(PROBES, 'api-alias');
    const alias = await api(`/users/${id}`, { headers: { 'x-read-consistency': 'gr-before' } });
    expect(alias.status).toBe(200);
    expect(alias.headers.get('x-read-strategy')).toBe('sync-before');
    // gtid-wait cannot work on Galera (its applier does not move gtid_slave_pos): a 400 that says so.
    const gtid = await api(`/users/${id}`, { headers: { 'x-read-consistency': 'gtid-wait' } });
    expect(gtid.status).toBe(400);
    expect(((await gtid.json()) as { message: string }).message).toMatch(/gtid-wait.*Galera/);
  }, 180_000);

  it('freeze pauses the reader node: eventual reads go stale, sync-before reads wait for the thaw', async () => {
    expect(await setLag(stack.cfg, 'freeze')).toMatch(/node2/);
    try {
      const status = await stackStatus(stack.cfg);
      expect(status.cluster?.find((n) => n.name === 'node2')?.state).toBe('Donor/Desynced');
      const id = await createUser(0, 'frozen');
      const eventual = await api(`/users/${id}`, { headers: { 'x-read-consistency': 'eventual' } });
      expect(eventual.status).toBe(404);
      let answered = false;
      const causal = api(`/users/${id}`, { headers: { 'x-read-consistency': 'sync-before' } }).then((r) => {
        answered = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(answered).toBe(false);
      // stack:up while frozen would wait on the frozen reader: it says so at once instead.
      await expect(stackUp(stack.cfg)).rejects.toThrow(
        'node2 is frozen (stack:lag freeze); thaw it first: npm run stack:lag -- thaw',
      );
      expect((await stackStatus(stack.cfg)).healthy).toBe(true);
      await setLag(stack.cfg, 'thaw');
      const res = await causal;
      // Either the row (the wait ended with the thaw) or the API's own deadline passed first: never stale.
      expect([200, 503]).toContain(res.status);
    } finally {
      await setLag(stack.cfg, 'thaw');
    }
    expect((await stackStatus(stack.cfg)).healthy).toBe(true);
  }, 60_000);

  it('refuses lag injections the cluster cannot honestly make, naming what it can', async () => {
    for (const lag of ['50ms', 'apply-delay=2s']) {
      await expect(setLag(stack.cfg, lag)).rejects.toThrow(/cluster topology.*freeze/);
    }
    // 0 means "no injected lag": on the cluster that is a thaw, and nothing to refuse.
    await expect(setLag(stack.cfg, '0')).resolves.toMatch(/thaw|not frozen/);
  });

  it('keeps its rows across down and up: node 1 left last and bootstraps the next start', async () => {
    const registry = readRegistry(stack.cfg.stateDir);
    await stackDown(stack.cfg);
    for (const rec of Object.values(registry)) expect(isRunning(rec)).toBe(false);
    // Stopped node 3 first and node 1 last: Galera marks only the last to leave as safe to bootstrap.
    const safe = (name: string) =>
      /^safe_to_bootstrap:\s*(\d)/m.exec(
        readFileSync(join(stack.cfg.stateDir, name, 'data', 'grastate.dat'), 'utf8'),
      )?.[1];
    expect(['node1', 'node2', 'node3'].map(safe)).toEqual(['1', '0', '0']);
    // Node 3 loses its datadir: it is initialised empty and joins by a full rsync state transfer.
    rmSync(join(stack.cfg.stateDir, 'node3', 'data'), { recursive: true, force: true });
    const up = await stackUp(stack.cfg);
    expect(readFileSync(join(stack.cfg.stateDir, 'node3', 'error.log'), 'utf8')).toMatch(
      /rsync SST completed on joiner/,
    );
    expect(up.started).toEqual(expect.arrayContaining(['node1', 'node2', 'node3']));
    const conn = await adminConnection(node('node3'));
    try {
      const [rows] = await conn.query<RowDataPacket[]>(
        "SELECT COUNT(*) AS n FROM cqrs.users WHERE email = 'replicated@example.test'",
      );
      expect(rows[0]?.n).toBe(1);
    } finally {
      await conn.end();
    }
    expect((await stackStatus(stack.cfg)).healthy).toBe(true);
  }, 120_000);

  it('leaves no process running after down, the full state transfer’s rsync daemons included', async () => {
    const registry = readRegistry(stack.cfg.stateDir);
    await stackDown(stack.cfg);
    for (const rec of Object.values(registry)) expect(isRunning(rec)).toBe(false);
    expect(processesMentioning(stack.cfg.stateDir)).toEqual([]);
  }, 60_000);
});

describe('the cluster topology: ports', () => {
  it('checks the Galera ports like every other: distinct, and named by their variable', () => {
    expect(() =>
      loadStackConfig({ CQRS_STACK_PORT_GALERA_GROUP2: '23306', CQRS_STACK_TOPOLOGY: 'cluster' }),
    ).toThrow(ConfigError);
    expect(() => loadStackConfig({ CQRS_STACK_PORT_GALERA_GROUP2: '23306' })).toThrow(
      /CQRS_STACK_PORT_GALERA_GROUP2; reason: expected a port no other service has \(CQRS_STACK_PORT_PRIMARY is 23306 too\)/,
    );
    expect(() => loadStackConfig({ CQRS_STACK_TOPOLOGY: 'galera' })).toThrow(
      /invalid CQRS_STACK_TOPOLOGY; reason: expected one of async\|cluster/,
    );
  });

  it('refuses a Galera port in use before anything starts', async () => {
    const cfg = await testStackConfig({ topology: 'cluster' });
    const holder: Server = createServer();
    await new Promise<void>((r) => holder.listen(cfg.ports.galeraIst3, '127.0.0.1', r));
    try {
      await expect(stackUp(cfg)).rejects.toThrow(
        new StackError(
          `port ${cfg.ports.galeraIst3} (node3) is already in use on 127.0.0.1; stop what holds it or set CQRS_STACK_PORT_GALERA_IST3`,
        ),
      );
      expect(Object.keys(readRegistry(cfg.stateDir))).toEqual([]);
      expect(processesMentioning(cfg.stateDir)).toEqual([]);
    } finally {
      holder.close();
      await stackDown(cfg, { purge: true });
    }
  });

  it.skipIf(process.getuid?.() !== 0)(
    'refuses, in one line, to run the cluster as root (rsync state transfers fail as root)',
    async () => {
      // A state folder OS user mysql cannot reach: as root, the servers would then run as root.
      const closed = mkdtempSync(join(tmpdir(), 'cqrs-closed-'));
      const cfg = loadStackConfig({}, { stateDir: join(closed, 'stack'), topology: 'cluster' });
      try {
        await expect(stackUp(cfg)).rejects.toThrow(
          /^the cluster topology needs the database servers to run as a non-root OS user \(rsync state transfers fail as root\); OS user mysql cannot reach .*cqrs-closed-/,
        );
        expect(readRegistry(cfg.stateDir)).toEqual({});
      } finally {
        rmSync(closed, { recursive: true, force: true });
      }
    },
  );
});
