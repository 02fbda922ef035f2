/**
 * build/xk6/experiment.sh, the Compose lab's k6 service, run by /bin/sh with compose.yaml's k6 environment
 * against a stand-in `k6` on PATH that records each call: the script must make npm start's runs (the same
 * `k6 run` arguments and K6_* environment as run/experiment.ts's k6RunArgs, from common/k6-output.ts), in
 * npm start's order, set each lag on the delay proxy and put it back to 0, create each report folder (k6 does
 * not), and fail only on an exit code other than 0 and 99. Everything is written under a temp folder.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { COMPOSE_FILE } from '../../build/compose/render.ts';
import { k6RunArgs } from '../../run/experiment.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SCRIPT = join(ROOT, 'build/xk6/experiment.sh');
const k6Env = (
  parse(readFileSync(join(ROOT, COMPOSE_FILE), 'utf8')) as {
    services: { k6: { environment: Record<string, string> } };
  }
).services.k6.environment;

const tmp = mkdtempSync(join(tmpdir(), 'cqrs-compose-exp-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// The stand-in k6: one JSON line per call (argv and the CQRS_/K6_ environment); exits with the code that
// STUB_EXIT_<lag> gives for a scenario run at that lag, else 0.
const bin = join(tmp, 'bin');
writeFileSync(
  join(tmp, 'k6-stub.mjs'),
  `import { appendFileSync } from 'node:fs';
const argv = process.argv.slice(2);
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(CQRS_|K6_)/.test(k)));
appendFileSync(process.env.STUB_LOG, JSON.stringify({ argv, env }) + '\\n');
const lag = argv.find((a) => a.startsWith('lag='));
process.exit(Number((lag && process.env['STUB_EXIT_' + lag.slice(4)]) || 0));
`,
);
mkdirSync(bin, { recursive: true });
writeFileSync(join(bin, 'k6'), `#!/bin/sh\nexec "${process.execPath}" "${join(tmp, 'k6-stub.mjs')}" "$@"\n`);
chmodSync(join(bin, 'k6'), 0o755);

interface Call {
  argv: string[];
  env: Record<string, string>;
}

async function runScript(name: string, extra: Record<string, string> = {}) {
  const cwd = join(tmp, name);
  mkdirSync(cwd, { recursive: true });
  const log = join(cwd, 'calls.jsonl');
  const res = await execa('/bin/sh', [SCRIPT], {
    cwd,
    reject: false,
    all: true,
    extendEnv: false,
    env: {
      PATH: `${bin}:/usr/bin:/bin`,
      ...k6Env,
      CQRS_COMPOSE_SCRIPTS_DIR: '/scripts',
      STUB_LOG: log,
      ...extra,
    },
  });
  const calls = existsSync(log)
    ? readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Call)
    : [];
  return { res, calls, cwd };
}

const isSetLag = (c: Call) => c.argv.some((a) => a.endsWith('set-lag.js'));
const delayOf = (c: Call) => c.argv.find((a) => a.startsWith('CQRS_DELAY_MS='))?.split('=')[1];

describe('the Compose experiment script', () => {
  const lags = (k6Env.CQRS_COMPOSE_LAGS as string).split(' ').map((p) => p.split('=') as [string, string]);
  const base = 'exp-20261201T120000-ab12';

  it("makes npm start's runs with k6-output.ts's arguments and environment, lag by lag", async () => {
    const { res, calls, cwd } = await runScript('ok', { CQRS_COMPOSE_BASE_ID: base });
    expect(res.exitCode, res.all).toBe(0);
    const expected: Call[] = [];
    for (const [lag, delayMs] of lags) {
      expected.push({ argv: [], env: { delay: delayMs } });
      for (const scenario of ['sql-read-after-write', 'sql-replica-lag']) {
        // run/experiment.ts's testIdOf.
        const testid = `${base}-${scenario.replace(/^sql-/, '')}-lag${lag.replace(/[^0-9a-z]/gi, '')}`;
        const run = k6RunArgs(
          { testid, script: scenario, strategy: k6Env.CQRS_SQL_STRATEGY as string, lag },
          { prometheusUrl: k6Env.CQRS_PROMETHEUS_URL as string },
        );
        expected.push({
          argv: [...run.args, `/scripts/${scenario}.js`],
          env: { ...run.env, CQRS_TEST_ID: testid, CQRS_REPORT_DIR: 'reports', CQRS_DURATION: '10s' },
        });
        expect(existsSync(join(cwd, 'reports', testid, 'k6.log')), `${testid}/k6.log`).toBe(true);
      }
    }
    expected.push({ argv: [], env: { delay: '0' } });
    expect(calls.length).toBe(expected.length);
    calls.forEach((call, i) => {
      const want = expected[i] as Call;
      if (want.argv.length === 0) {
        expect(isSetLag(call), `call ${i} sets the lag`).toBe(true);
        expect(delayOf(call)).toBe(want.env.delay);
        expect(call.argv).toContain(`CQRS_DELAY_CONTROL_URL=${k6Env.CQRS_DELAY_CONTROL_URL}`);
        return;
      }
      expect(call.argv).toEqual(want.argv);
      for (const [k, v] of Object.entries(want.env)) expect(call.env[k], k).toBe(v);
    });
  });

  it('gives the experiment a test id like newTestId("exp", now) when none is given', async () => {
    const { res, calls } = await runScript('default-id');
    expect(res.exitCode, res.all).toBe(0);
    const ids = calls.flatMap((c) => (c.env.CQRS_TEST_ID && !isSetLag(c) ? [c.env.CQRS_TEST_ID] : []));
    expect(ids[0]).toMatch(/^exp-\d{8}T\d{6}-[0-9a-z]{4}-read-after-write-lag0$/);
    expect(new Set(ids.map((id) => id.slice(0, 24))).size).toBe(1);
  });

  it('treats threshold failures (99) as results, and fails on any other exit, after every run', async () => {
    const [first, second] = lags.map(([lag]) => lag);
    const thresholds = await runScript('thresholds', { [`STUB_EXIT_${first}`]: '99' });
    expect(thresholds.res.exitCode, thresholds.res.all).toBe(0);
    const broken = await runScript('broken', { [`STUB_EXIT_${second}`]: '107' });
    expect(broken.res.exitCode).toBe(1);
    expect(broken.calls.filter((c) => !isSetLag(c)).length).toBe(lags.length * 2);
    expect(delayOf(broken.calls.at(-1) as Call)).toBe('0');
  });

  it('says what to do when the report folder is not writable', async () => {
    const { res, calls } = await runScript('unwritable', { CQRS_REPORT_DIR: '/proc/cqrs-reports' });
    expect(res.exitCode).toBe(1);
    expect(res.all).toMatch(/not writable.*CQRS_COMPOSE_UID/s);
    expect(calls.filter((c) => !isSetLag(c))).toEqual([]);
  });
});
