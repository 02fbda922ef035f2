import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { stackEndpoints, toEnv } from '../../common/endpoints.ts';
import {
  k6OutputSettings,
  newTestId,
  REMOTE_WRITE_TREND_STATS,
  remoteWriteEnv,
  remoteWriteUrl,
  tagArgs,
  trendStatSuffix,
  webDashboardEnv,
} from '../../common/k6-output.ts';
import { STACK_DATABASE, STACK_DEFAULT_PORTS, STACK_HOST } from '../../common/stack-defaults.ts';
import { CONFIG_SCHEMA } from '../../lib/config.ts';
import { k6RunArgs } from '../../run/experiment.ts';
import { describeWithBinary, STOCK_K6, STOCK_K6_MISSING } from '../helpers/k6-e2e.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const PROM = 'http://127.0.0.1:29090';

describe('k6 output settings (one module for every way of running)', () => {
  it('streams to the remote-write receiver with native histograms, trend stats, 1 s pushes and stale markers', () => {
    const s = k6OutputSettings(
      { prometheusUrl: `${PROM}/` },
      { testid: 't1', script: 'sql-mixed', lag: '5ms' },
    );
    expect(s.args).toEqual([
      '-o',
      'experimental-prometheus-rw',
      '--tag',
      'testid=t1',
      '--tag',
      'script=sql-mixed',
      '--tag',
      'lag=5ms',
    ]);
    expect(s.env).toEqual({
      K6_PROMETHEUS_RW_SERVER_URL: `${PROM}/api/v1/write`,
      K6_PROMETHEUS_RW_TREND_STATS: 'p(50),p(95),p(99),max',
      K6_PROMETHEUS_RW_PUSH_INTERVAL: '1s',
      K6_PROMETHEUS_RW_STALE_MARKERS: 'true',
      K6_FEATURES: 'native-histograms',
    });
    // A Prometheus without native histograms gets the trend stats alone.
    expect(remoteWriteEnv({ prometheusUrl: PROM, nativeHistograms: false })).not.toHaveProperty(
      'K6_FEATURES',
    );
    expect(remoteWriteEnv({ prometheusUrl: PROM, pushInterval: '5s' }).K6_PROMETHEUS_RW_PUSH_INTERVAL).toBe(
      '5s',
    );
  });

  it('keeps count out of the trend stats (k6 v2.2 would send it divided by 1000) and names each stat as k6 does', () => {
    expect(REMOTE_WRITE_TREND_STATS).not.toContain('count');
    expect(REMOTE_WRITE_TREND_STATS.map(trendStatSuffix)).toEqual(['p50', 'p95', 'p99', 'max']);
    expect(trendStatSuffix('p(99.9)')).toBe('p999');
  });

  it('tags in a fixed order and leaves out what is not set', () => {
    expect(tagArgs({ testid: 'a', strategy: 'gtid-wait' })).toEqual([
      '--tag',
      'testid=a',
      '--tag',
      'strategy=gtid-wait',
    ]);
    expect(tagArgs({ testid: 'a', lag: '0', script: 's', strategy: 'x' }).filter((_, i) => i % 2)).toEqual([
      'testid=a',
      'script=s',
      'strategy=x',
      'lag=0',
    ]);
  });

  it('generates test ids CQRS_TEST_ID accepts, different within one second', () => {
    const at = new Date('2026-12-02T01:02:03.456Z');
    const id = newTestId('exp', at, () => 0.5);
    expect(id).toBe(`exp-20261202T010203-${Math.floor(0.5 * 36 ** 4).toString(36)}`);
    expect(CONFIG_SCHEMA.testId.parser.parse(id)).toBe(id);
    expect(newTestId('exp', at, () => 0)).toBe('exp-20261202T010203-0000');
    expect(newTestId('exp', at)).not.toBe(newTestId('exp', at));
  });

  it("is what the stack's env file holds, so `k6 run -o experimental-prometheus-rw` by hand streams like npm start", () => {
    const e = stackEndpoints({
      flavor: 'mariadb',
      host: STACK_HOST,
      ports: STACK_DEFAULT_PORTS,
      database: STACK_DATABASE,
      users: Object.fromEntries(
        ['writer', 'reader', 'monitor'].map((r) => [r, { user: r, password: 'pw' }]),
      ) as never,
      redisPassword: 'pw',
      sockets: { primary: '/p.sock', replica: '/r.sock' },
    });
    expect(e.remoteWriteUrl).toBe(remoteWriteUrl(e.prometheusUrl));
    expect(toEnv(e)).toMatchObject(remoteWriteEnv({ prometheusUrl: e.prometheusUrl }));
  });

  it("the README's `k6 run` line is the module's arguments", () => {
    const s = k6OutputSettings({ prometheusUrl: PROM }, { testid: 'my-run' });
    const line = ['k6 run', ...s.args, '-e CQRS_TEST_ID=my-run dist/sql-read-after-write.js'].join(' ');
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain(`\n${line}\n`);
  });

  it('npm start tags every run and streams only when asked; the web dashboard exports without a server', () => {
    const tags = { testid: 't', script: 'sql-read-after-write', strategy: 'eventual', lag: '0' };
    const quiet = k6RunArgs(tags, {});
    expect(quiet).toEqual({ args: ['run', ...tagArgs(tags)], env: {} });
    const streaming = k6RunArgs(tags, { prometheusUrl: PROM, webDashboardFile: '/r/k6-dashboard.html' });
    expect(streaming.args).toEqual(['run', ...k6OutputSettings({ prometheusUrl: PROM }, tags).args]);
    expect(streaming.env).toEqual({
      ...remoteWriteEnv({ prometheusUrl: PROM }),
      ...webDashboardEnv('/r/k6-dashboard.html'),
    });
  });
});

describeWithBinary(
  "k6's web-dashboard export with the module's settings",
  STOCK_K6,
  STOCK_K6_MISSING,
  (k6) => {
    it('writes one self-contained HTML file for a 4 s run, with no dashboard server', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cqrs-webdash-'));
      try {
        writeFileSync(
          join(dir, 'run.js'),
          "import { sleep } from 'k6';\nexport const options = { vus: 1, duration: '4s' };\nexport default () => sleep(0.1);\n",
        );
        const out = join(dir, 'k6-dashboard.html');
        const r = await execa(k6, ['run', '--quiet', 'run.js'], {
          cwd: dir,
          env: webDashboardEnv(out),
          reject: false,
          all: true,
          timeout: 60_000,
        });
        expect(r.exitCode, r.all).toBe(0);
        // No server: k6 names no dashboard URL.
        expect(r.all).not.toMatch(/web dashboard: http/);
        const html = readFileSync(out, 'utf8');
        // Booleans, not the file: it is 160 kB of inlined script.
        expect(/<html[\s>]/i.test(html), 'an HTML page').toBe(true);
        expect(html.length).toBeGreaterThan(10_000);
        expect(/<script[^>]+src="https?:/.test(html), 'no script from the network').toBe(false);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 90_000);
  },
);
