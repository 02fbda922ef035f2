/**
 * Runs the built SQL bundles' lifecycle (setup → iterations → teardown → handleSummary) in Node, with k6's
 * modules replaced by recording stubs and xk6-sql by an in-memory database that answers exactly the statements
 * in lib/sql/statements.ts (text columns as byte arrays, as xk6-sql returns them). This checks the wiring that
 * only k6 would otherwise exercise: metrics recorded per probe, session violations counted, reconciliation
 * emitted in teardown, report files named.
 */
import { describe, expect, it } from 'vitest';
import {
  evaluateBundle,
  K6_STUBS,
  RECORDING_METRICS_STUB,
  SQL_SCENARIOS,
  useBuiltBundles,
} from '../helpers/bundles.ts';

// Not the inert K6_STUBS: these record every metric sample and answer SQL, so the lifecycle can be followed.
const STUBS: Record<string, string> = {
  ...K6_STUBS,
  'k6/metrics': RECORDING_METRICS_STUB,
  'k6/execution':
    'export default { vu: { idInTest: 1 }, test: { options: { tags: { instance_id: "3" } } } };',
  // One in-memory database per bundle instance; a DSN with host "blackhole" is a replica that never catches up.
  'k6/x/sql': `
    import { SQL } from './lib/sql/statements.ts';
    import { DIALECTS } from './common/dialect.ts';
    const bytes = (s) => Array.from(new TextEncoder().encode(String(s)));
    const rows = new Map(); const acks = []; const beats = []; let clockUs = 1764000000000000;
    const tick = () => (clockUs += 1000);
    function open(driver, dsn) {
      if (typeof driver !== 'symbol') throw new Error('driver must be a Symbol');
      const blind = dsn.includes('@tcp(blackhole:');
      const seen = (tag) => !blind && rows.has(tag);
      return {
        close() {},
        exec(q, ...a) {
          if (q === SQL.insertProbe) {
            if (rows.has(a[0])) throw new Error('Duplicate entry');
            rows.set(a[0], { id: rows.size + 1, tag: a[0], runId: a[1], runner: a[2], vu: a[3] });
            const id = rows.size;
            return { lastInsertId: () => id, rowsAffected: () => 1 };
          }
          if (q.startsWith('INSERT IGNORE INTO probe_acks')) {
            (globalThis.__ledgerStatements ??= []).push(a.length / 4);
            for (let i = 0; i < a.length; i += 4)
              acks.push({ runId: a[i], runner: a[i + 1], vu: a[i + 2], tag: a.slice(i, i + 4).join(':') });
          } else if (q === SQL.heartbeatLog) beats.push(tick());
          else if (q !== SQL.heartbeatBeat && q !== SQL.heartbeatPrune) throw new Error('unexpected exec: ' + q);
          return { lastInsertId: () => 0, rowsAffected: () => 1 };
        },
        query(q, ...a) {
          if (q === SQL.probeSighting)
            return seen(a[0]) ? [{ id: rows.get(a[0]).id, lag_us: bytes(1500), stamped: bytes(1) }] : [];
          if (q === SQL.acksByVu && dsn.includes('@tcp(broken-ledger:')) throw new Error('ledger unreadable');
          if (q === SQL.acksByVu) {
            // A replica that never catches up has not got the acknowledgements either.
            const byVu = new Map();
            for (const k of acks) if (!blind && k.runId === a[0] && k.runner === a[1]) {
              const c = byVu.get(k.vu) ?? { vu: k.vu, acked: 0, missing: 0 };
              c.acked++; if (!seen(k.tag)) c.missing++; byVu.set(k.vu, c);
            }
            return [...byVu.values()].map((c) => ({ vu: c.vu, acked: bytes(c.acked), missing: bytes(c.missing) }));
          }
          if (q === SQL.heartbeatNow) return [{ now_us: bytes(tick()) }];
          // The replica holds every beat, each applied 1.5 ms after it was written.
          if (q === SQL.heartbeatReplicaNewest) { const b = beats[beats.length - 1];
            return b === undefined || blind ? [] : [{ ts_us: bytes(b), applied_us: bytes(b + 1500), now_us: bytes(tick()) }]; }
          if (q === SQL.heartbeatOldestAfter) return [{ ts_us: null }];
          if (q === SQL.maxProbeId) return [{ max_id: rows.size || null }];
          if (q === SQL.pointRead) { const r = [...rows.values()].find((x) => x.id === a[0]);
            return r && seen(r.tag) ? [{ id: r.id, tag: bytes(r.tag), payload: bytes('x') }] : []; }
          if (q === DIALECTS.mariadb.lastWriteGtid) return [{ gtid: bytes('0-1-' + rows.size) }];
          if (q === DIALECTS.mariadb.waitForGtid) { (globalThis.__gtidWaits ??= []).push(a[1]); return [{ waited: blind ? -1 : 0 }]; }
          if (q === DIALECTS.mariadb.showReplicaStatus) return [{ Seconds_Behind_Master: bytes(0) }];
          throw new Error('unexpected query: ' + q);
        },
      };
    }
    export default { open };`,
};

interface Sample {
  name: string;
  value: number;
  tags: Record<string, string>;
}
type Mod = Record<string, (...args: unknown[]) => unknown>;

const built = useBuiltBundles('cqrs-harness-');

async function load(
  scenario: string,
  env: Record<string, string> = {},
): Promise<{ mod: Mod; samples: Sample[] }> {
  const samples: Sample[] = [];
  const mod = await evaluateBundle(built.path(scenario), STUBS, {
    __samples: samples,
    __ENV: { CQRS_TEST_ID: 'h1', ...env },
  });
  return { mod: mod as Mod, samples };
}

const total = (samples: Sample[], name: string) =>
  samples.filter((s) => s.name === name).reduce((sum, s) => sum + s.value, 0);
const values = (samples: Sample[], name: string) =>
  samples.filter((s) => s.name === name).map((s) => s.value);

describe('SQL scenario lifecycle on stubbed k6 modules', () => {
  it('read-after-write: fresh reads, lag samples, reconciliation with 0 missing, report files', async () => {
    const { mod, samples } = await load('sql-read-after-write');
    const run = mod.setup?.() as { runId: string; runner: string };
    expect(run).toMatchObject({ runId: 'h1', runner: '3', scenario: 'sql-read-after-write' });
    for (let i = 0; i < 3; i++) mod.probe?.(run);
    mod.flushLedger?.();
    mod.teardown?.(run);
    expect(total(samples, 'raw_writes')).toBe(3);
    expect(total(samples, 'acked_writes')).toBe(3);
    expect(total(samples, 'ledger_flushed')).toBe(3);
    expect(values(samples, 'visibility_lag')).toEqual([1.5, 1.5, 1.5]);
    expect(values(samples, 'visibility_lag_client')).toHaveLength(3);
    expect(total(samples, 'stale_reads')).toBe(0);
    expect(total(samples, 'visibility_timeouts')).toBe(0);
    expect(values(samples, 'visibility_lag')).toHaveLength(3);
    expect(samples.find((s) => s.name === 'raw_writes')?.tags).toEqual({ strategy: 'eventual' });
    expect(total(samples, 'reconcile_checked')).toBe(3);
    expect(total(samples, 'reconcile_missing_writer') + total(samples, 'reconcile_missing_reader')).toBe(0);
    const timed = samples
      .filter((s) => s.name === 'db_query_duration')
      .map((s) => `${s.tags.endpoint}:${s.tags.op}`);
    expect(new Set(timed)).toEqual(
      new Set([
        'writer:heartbeat_now',
        'writer:probe_insert',
        'reader:probe_read',
        'writer:ledger',
        'writer:reconcile_acks',
        'reader:reconcile_acks',
      ]),
    );
    const files = mod.handleSummary?.({ metrics: {}, setup_data: run }) as Record<string, string>;
    expect(Object.keys(files)).toContain('reports/h1/consistency.runner-3.md');
    expect(
      Object.keys(files)
        .filter((f) => f !== 'stdout')
        .every((f) => f.startsWith('reports/h1/')),
    ).toBe(true);
  });

  it('read-after-write against a replica that never catches up: stale, timeouts, violations, missing rows', async () => {
    const { mod, samples } = await load('sql-read-after-write', {
      CQRS_READER_DSN: 'reader:pw@tcp(blackhole:1)/cqrs',
      CQRS_PROBE_TIMEOUT: '5ms',
      CQRS_CATCHUP_TIMEOUT: '0',
    });
    const run = mod.setup?.();
    for (let i = 0; i < 2; i++) mod.probe?.(run);
    mod.flushLedger?.();
    mod.teardown?.(run);
    expect(total(samples, 'stale_reads')).toBe(2);
    expect(total(samples, 'visibility_timeouts')).toBe(2);
    expect(values(samples, 'visibility_lag')).toEqual([]);
    expect(total(samples, 'raw_polls')).toBeGreaterThan(0);
    expect(total(samples, 'ryw_violations')).toBe(2);
    expect(total(samples, 'reconcile_missing_writer')).toBe(0);
    expect(total(samples, 'reconcile_missing_reader')).toBe(2);
    expect(total(samples, 'db_errors')).toBe(0);
  });

  it('gtid-wait: waits at most the probe timeout, in fractions of a second, on the reader', async () => {
    const waits: unknown[] = [];
    Object.assign(globalThis, { __gtidWaits: waits });
    const { mod, samples } = await load('sql-read-after-write', {
      CQRS_SQL_STRATEGY: 'gtid-wait',
      CQRS_PROBE_TIMEOUT: '500ms',
    });
    const run = mod.setup?.();
    mod.probe?.(run);
    expect(waits).toEqual([0.5]);
    expect(total(samples, 'stale_reads')).toBe(0);
    expect(total(samples, 'db_errors')).toBe(0);
  });

  it('mixed: read-backs follow CQRS_SQL_STRATEGY (primary reads the writer, gtid-wait waits first)', async () => {
    // A reader that never catches up: under `primary` read-backs go to the writer, so they are never stale.
    const primary = await load('sql-mixed', {
      CQRS_SQL_STRATEGY: 'primary',
      CQRS_READER_DSN: 'reader:pw@tcp(blackhole:1)/cqrs',
      CQRS_PROBE_FRACTION: '0',
      CQRS_READ_RATIO: '0.5',
    });
    const prun = primary.mod.setup?.();
    for (let i = 0; i < 80; i++) primary.mod.mixed?.(prun);
    const readBacks = primary.samples.filter((s) => s.name === 'sql_reads' && s.tags.endpoint === 'writer');
    expect(readBacks.length).toBeGreaterThan(0);
    expect(total(primary.samples, 'ryw_violations')).toBe(0);
    expect(total(primary.samples, 'db_errors')).toBe(0);

    const waits: unknown[] = [];
    Object.assign(globalThis, { __gtidWaits: waits });
    const gtid = await load('sql-mixed', {
      CQRS_SQL_STRATEGY: 'gtid-wait',
      CQRS_PROBE_FRACTION: '0',
      CQRS_READ_RATIO: '0.5',
    });
    const grun = gtid.mod.setup?.();
    for (let i = 0; i < 80; i++) gtid.mod.mixed?.(grun);
    const ownReads = gtid.samples.filter((s) => s.name === 'db_queries' && s.tags.op === 'gtid_wait');
    expect(waits.length).toBeGreaterThan(0);
    expect(ownReads).toHaveLength(waits.length);
    expect(total(gtid.samples, 'ryw_violations')).toBe(0);
  });

  it('a reconciliation that cannot run is counted as an error, not as "0 missing"', async () => {
    const { mod, samples } = await load('sql-write-load', {
      CQRS_WRITER_DSN: 'writer:pw@tcp(broken-ledger:1)/cqrs',
    });
    const run = mod.setup?.();
    mod.write?.(run);
    mod.teardown?.(run);
    expect(total(samples, 'reconcile_errors')).toBe(1);
    expect(values(samples, 'reconcile_missing_writer')).toEqual([]);
  });

  it('replica-lag: heartbeat written and sampled (µs → ms), Seconds_Behind read, background writes ledgered', async () => {
    const { mod, samples } = await load('sql-replica-lag');
    const run = mod.setup?.();
    mod.heartbeatWrite?.();
    mod.heartbeatSample?.(run);
    mod.write?.(run);
    mod.flushLedger?.();
    mod.teardown?.(run);
    expect(values(samples, 'heartbeat_lag')).toEqual([1.5]);
    expect(values(samples, 'replica_seconds_behind')).toEqual([0]);
    expect(total(samples, 'reconcile_checked')).toBe(1);
    expect(total(samples, 'reconcile_missing_reader')).toBe(0);
  });

  it('read-load seeds rows in setup and reads them; mixed runs every branch without errors', async () => {
    const read = await load('sql-read-load');
    const run = read.mod.setup?.() as { maxId: number };
    expect(run.maxId).toBe(200);
    for (let i = 0; i < 20; i++) read.mod.read?.(run);
    expect(total(read.samples, 'sql_reads')).toBe(20);
    expect(total(read.samples, 'monotonic_violations')).toBe(0);

    const mixed = await load('sql-mixed', { CQRS_PROBE_FRACTION: '0.3', CQRS_READ_RATIO: '0.5' });
    const mrun = mixed.mod.setup?.();
    for (let i = 0; i < 60; i++) mixed.mod.mixed?.(mrun);
    mixed.mod.flushLedger?.();
    mixed.mod.teardown?.(mrun);
    expect(total(mixed.samples, 'raw_writes')).toBeGreaterThan(0);
    expect(total(mixed.samples, 'sql_writes')).toBeGreaterThan(0);
    expect(total(mixed.samples, 'sql_reads')).toBeGreaterThan(0);
    expect(total(mixed.samples, 'ryw_violations')).toBe(0);
    expect(total(mixed.samples, 'reconcile_missing_reader')).toBe(0);
    expect(total(mixed.samples, 'db_errors')).toBe(0);
  });

  it('every SQL bundle flushes each VU’s ledger once, after every other scenario, in batches', async () => {
    for (const scenario of SQL_SCENARIOS) {
      const { mod } = await load(scenario);
      const scenarios = (mod.options as unknown as { scenarios: Record<string, Record<string, unknown>> })
        .scenarios;
      const flush = scenarios.ledger_flush as Record<string, unknown>;
      expect(flush, scenario).toMatchObject({
        executor: 'per-vu-iterations',
        exec: 'flushLedger',
        iterations: 1,
      });
      expect(typeof mod.flushLedger, scenario).toBe('function');
      const others = Object.entries(scenarios).filter(([name]) => name !== 'ledger_flush');
      const vus = others.reduce((n, [, s]) => n + Number(s.maxVUs ?? s.vus ?? 1), 0);
      expect(flush.vus, scenario).toBe(vus);
    }
    const ledger: number[] = [];
    Object.assign(globalThis, { __ledgerStatements: ledger });
    const { mod, samples } = await load('sql-write-load');
    const run = mod.setup?.();
    for (let i = 0; i < 130; i++) mod.write?.(run);
    mod.flushLedger?.();
    mod.teardown?.(run);
    expect(ledger).toEqual([64, 64, 2]);
    expect(total(samples, 'reconcile_checked')).toBe(130);
  });
});
