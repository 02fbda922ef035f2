/**
 * `npm start` end to end with a stand-in k6: a real test stack (own ports and folder, no API), the real
 * bundler, real lag switching; the fake k6 only records how it was called and writes a summary.json. Checks
 * the orchestration and the comparison table (including the ⚠ mark of a run whose generator was the limit);
 * the real-k6 measurements are in k6.test.ts and reports.test.ts. Reports go to a temp folder through
 * CQRS_REPORT_DIR, as a user's would: the fake k6 writes where k6 would, so nothing lands in the repository.
 */
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { GENERATOR_FOOTNOTE } from '../../run/comparison.ts';
import { PROJECT_ROOT, portEnvName } from '../../stack/config.ts';
import { loadStackConfig, stackDown } from '../../stack/index.ts';
import { freePorts, portEnv } from '../kit/stack.ts';

const work = mkdtempSync(join(tmpdir(), 'cqrs-exp-'));
// The database servers run as OS user mysql (root runs the tests in CI), who must pass through this folder to
// reach the stack's: the cluster topology refuses to run its servers as root.
chmodSync(work, 0o711);
const fakeK6 = join(work, 'k6');
writeFileSync(
  fakeK6,
  `#!/bin/sh
if [ "$1" = version ]; then
  echo "k6 v2.2.0 (go1.25.1, linux/amd64)"
  echo "Extensions:"
  echo "  github.com/grafana/xk6-sql v1.2.1, k6/x/sql [js]"
  echo "  github.com/grafana/xk6-sql-driver-mysql v0.4.0, k6/x/sql/driver/mysql [js]"
  exit 0
fi
# Where handleSummary writes: CQRS_REPORT_DIR, relative to k6's working directory (lib/config.ts).
dir="$CQRS_REPORT_DIR/$CQRS_TEST_ID"
# A run that hangs until interrupted, like a long k6 run the user stops with Ctrl-C.
if [ -n "$FAKE_K6_HANG" ]; then touch "$FAKE_K6_HANG"; exec sleep 60; fi
echo "$@" > "$dir/args.txt"
env | grep -E '^(CQRS|K6)_' | sort > "$dir/env.txt"
# One run where k6 could not keep up: 20 started, 60 dropped (dropped_iterations exists only then).
dropped=''
case "$CQRS_TEST_ID" in *read-after-write-lag5ms) dropped=',"dropped_iterations":{"type":"counter","values":{"count":60}}';; esac
cat > "$dir/summary.json" <<JSON
{"state":{"testRunDurationMs":1000},
"metrics":{"probe_writes":{"type":"counter","values":{"count":20}},"probe_reads":{"type":"counter","values":{"count":20}},
"stale_reads":{"type":"counter","values":{"count":19}},"iterations":{"type":"counter","values":{"count":20}}\${dropped},
"visibility_lag":{"type":"trend","values":{"med":52.5,"p(95)":55,"p(99)":58,"max":60,"avg":52,"count":20}}}}
JSON
exit 0
`,
);
chmodSync(fakeK6, 0o755);

const reportRoot = join(work, 'reports');
let stackEnv: Record<string, string> = {};

/** The project's own report folders, to show that npm start wrote none of them. */
const projectReports = () => {
  const dir = join(PROJECT_ROOT, 'reports');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
};

afterAll(async () => {
  if (Object.keys(stackEnv).length > 0) await stackDown(loadStackConfig(stackEnv), { purge: true });
  rmSync(work, { recursive: true, force: true });
});

/** npm start as shipped, through the launcher (build/node-cli.mjs), not tsx: 1 s runs at lags 0 and 5 ms. */
const npmStart = (args: readonly string[]) =>
  execa('node', ['build/node-cli.mjs', 'run/experiment.ts', ...args], {
    cwd: PROJECT_ROOT,
    env: {
      ...stackEnv,
      K6_BIN: fakeK6,
      CQRS_EXP_LAGS: '0,5ms',
      CQRS_EXP_DURATION: '1s',
      CQRS_REPORT_DIR: reportRoot,
      CQRS_BUNDLE_DIR: join(work, 'dist'),
    },
    reject: false,
    all: true,
    timeout: 170_000,
  });

describe('npm start with a stand-in k6', () => {
  it('brings the stack up, builds, runs both scenarios per lag, prints one table, resets the lag', async () => {
    const ports = await freePorts();
    stackEnv = {
      CQRS_STACK_DIR: join(work, 'stack'),
      CQRS_STACK_API: '0',
      ...portEnv(ports),
    };
    const before = projectReports();
    const run = await npmStart([]);
    const out = run.all ?? '';
    expect(run.exitCode, out).toBe(0);
    expect(out).toContain(`[1/4] sql-read-after-write at 0 for 1s → ${reportRoot}/exp-`);
    expect(out).toContain('[4/4] sql-replica-lag at 5ms for 1s');
    expect(out).toContain('replication delay set to 5 ms');

    const table = out.slice(out.indexOf('scenario  '));
    const rows = table.split('\n').filter((l) => /^sql-/.test(l));
    expect(rows).toHaveLength(4);
    expect(rows[0]).toMatch(/^sql-read-after-write\s+0\s+95\.0%\s+52\.5 ms/);
    // The run whose generator was the limit is marked, and the footnote says what that means.
    expect(rows[0]).toMatch(/\sok\s+ok$/);
    expect(rows[2]).toMatch(/^sql-read-after-write\s+5ms\s.*\s⚠ 25\.0% of rate\s+ok$/);
    expect(rows.filter((r) => r.includes('⚠'))).toHaveLength(1);
    expect(table).toContain(GENERATOR_FOOTNOTE);

    // Every report under CQRS_REPORT_DIR, read back from there for the table above, none in the repository.
    const reportPrefix = new RegExp(`reports: ${reportRoot}/(exp-\\d+T\\d+-[0-9a-z]{4})-\\*/`).exec(out)?.[1];
    expect(reportPrefix, out).toBeDefined();
    // Each run's folder, and the experiment's offline report beside them.
    expect(readdirSync(reportRoot).sort()).toEqual([
      ...['read-after-write-lag0', 'read-after-write-lag5ms', 'replica-lag-lag0', 'replica-lag-lag5ms'].map(
        (s) => `${reportPrefix}-${s}`,
      ),
      `${reportPrefix}.html`,
    ]);
    expect(out).toContain(`experiment report (opens offline): ${reportRoot}/${reportPrefix}.html`);
    // Streamed by default: the link to watch every run of the experiment (no Grafana in this stack).
    const firstQuery = new URLSearchParams({
      'g0.expr': `sum by (testid) (rate(k6_stale_reads_total{testid=~"${reportPrefix}-.+`,
    });
    expect(out).toContain(`watch: http://127.0.0.1:${ports.prometheus}/graph?${firstQuery}`);
    expect(projectReports()).toEqual(before);
    const dir = join(reportRoot, `${reportPrefix}-read-after-write-lag5ms`);
    expect(readFileSync(join(dir, 'args.txt'), 'utf8')).toBe(
      // k6 runs in the report folder's parent (the temp folder), which holds CQRS_BUNDLE_DIR too.
      `run -o experimental-prometheus-rw --tag testid=${reportPrefix}-read-after-write-lag5ms ` +
        '--tag script=sql-read-after-write --tag strategy=eventual --tag lag=5ms dist/sql-read-after-write.js\n',
    );
    expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'))).toMatchObject({
      scenario: 'sql-read-after-write',
      lag: '5ms',
      strategy: 'eventual',
      exitCode: 0,
    });
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain(
      `${reportPrefix}-read-after-write-lag5ms`,
    );
    expect(existsSync(join(work, 'dist', 'sql-read-after-write.js'))).toBe(true);
    const env = readFileSync(join(dir, 'env.txt'), 'utf8');
    expect(env).toContain(`CQRS_WRITER_DSN=writer:writer-secret@tcp(127.0.0.1:${ports.primary})/cqrs`);
    expect(env).toContain(
      `CQRS_REPLICA_MONITOR_DSN=monitor:monitor-secret@tcp(127.0.0.1:${ports.replica})/cqrs`,
    );
    expect(env).toContain('CQRS_DURATION=1s');
    expect(env).toContain(`K6_PROMETHEUS_RW_SERVER_URL=http://127.0.0.1:${ports.prometheus}/api/v1/write`);
    expect(env).toContain('K6_FEATURES=native-histograms');
    expect(env).toContain('CQRS_REPORT_DIR=reports');
    expect(existsSync(join(dir, 'k6.log'))).toBe(true);

    // The lag is back to 0 afterwards.
    const status = await fetch(`http://127.0.0.1:${ports.delayProxyControl}/delay`).then(
      (r) => r.json() as Promise<{ delayMs: number }>,
    );
    expect(status.delayMs).toBe(0);
  }, 180_000);

  it('puts the lag back to 0 when interrupted mid-run (Ctrl-C)', async () => {
    expect(Object.keys(stackEnv).length, 'runs after the first test, on its stack').toBeGreaterThan(0);
    const marker = join(work, 'k6-running');
    // Its own process group, so the signal reaches every process in it, as Ctrl-C does in a terminal.
    const run = execa('node', ['build/node-cli.mjs', 'run/experiment.ts'], {
      cwd: PROJECT_ROOT,
      env: {
        ...stackEnv,
        K6_BIN: fakeK6,
        CQRS_EXP_LAGS: '50ms',
        CQRS_EXP_DURATION: '1s',
        CQRS_REPORT_DIR: reportRoot,
        CQRS_BUNDLE_DIR: join(work, 'dist'),
        FAKE_K6_HANG: marker,
      },
      reject: false,
      all: true,
      detached: true,
    });
    const deadline = Date.now() + 60_000;
    while (!existsSync(marker) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const control = `http://127.0.0.1:${stackEnv[portEnvName('delayProxyControl')]}/delay`;
    const delayNow = async () => ((await (await fetch(control)).json()) as { delayMs: number }).delayMs;
    expect(await delayNow()).toBe(50);
    process.kill(-(run.pid as number), 'SIGINT');
    const done = await run;
    expect(done.all).toContain('SIGINT: resetting the injected lag to 0');
    expect(await delayNow()).toBe(0);
  }, 120_000);

  it('--topology both: the async pair, then the cluster it switches to; one labelled table each', async () => {
    expect(Object.keys(stackEnv).length, 'runs after the first test, on its stack').toBeGreaterThan(0);
    const run = await npmStart(['--topology', 'both']);
    const out = run.all ?? '';
    expect(run.exitCode, out).toBe(0);
    // The async pair: each SQL strategy it serves at each lag, then the API at the largest lag.
    expect(out).toContain('[1/6] sql-read-after-write (eventual) at 0 for 1s');
    expect(out).toContain('[6/6] sql-read-after-write (gtid-wait) at 5ms for 1s');
    expect(out).toMatch(
      /\[api\] api-read-after-write on the async topology at 5ms, strategies eventual, primary, gtid-wait, sticky, cache,/,
    );
    expect(out).toContain('stack: stopping the async topology to start the cluster one');
    // The cluster: at its natural lag only, with the server-side strategy.
    expect(out).toContain('[3/3] sql-read-after-write (sync-before) at 0 for 1s');
    expect(out).toMatch(
      /\[api\] api-read-after-write on the cluster topology at 0, strategies eventual, primary, sticky, cache, sync-before,/,
    );
    const table = out.slice(out.indexOf('topology  scenario'));
    const rows = table.split('\n').slice(2, 11);
    expect(rows.map((r) => r.split(/\s+/).slice(0, 4).join(' '))).toEqual([
      'async sql-read-after-write eventual 0',
      'async sql-read-after-write primary 0',
      'async sql-read-after-write gtid-wait 0',
      'async sql-read-after-write eventual 5ms',
      'async sql-read-after-write primary 5ms',
      'async sql-read-after-write gtid-wait 5ms',
      'cluster sql-read-after-write eventual 0',
      'cluster sql-read-after-write primary 0',
      'cluster sql-read-after-write sync-before 0',
    ]);
    expect(out).toMatch(/^topology\s+lag\s+strategy\s+reads\s+stale rate/m);
    const status = await execa('node', ['build/node-cli.mjs', 'stack/cli.ts', 'status'], {
      cwd: PROJECT_ROOT,
      env: stackEnv,
      reject: false,
      all: true,
    });
    expect(status.all).toContain('topology: cluster');
    // A steady lag on the cluster is refused before anything runs.
    const refused = await execa(
      'node',
      ['build/node-cli.mjs', 'run/experiment.ts', '--topology', 'cluster'],
      {
        cwd: PROJECT_ROOT,
        env: { ...stackEnv, K6_BIN: fakeK6, CQRS_EXP_LAGS: '50ms', CQRS_REPORT_DIR: reportRoot },
        reject: false,
        all: true,
      },
    );
    expect(refused.exitCode).toBe(1);
    expect(refused.all).toMatch(
      /^npm start: invalid CQRS_EXP_LAGS; reason: expected 0 on the cluster topology/m,
    );
  }, 180_000);
});
