import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { k6OutputSettings } from '../../common/k6-output.ts';
import { K6_METRICS, remoteWriteSeries } from '../../common/metrics.ts';
import { type ApiScenarioName, apiThresholds } from '../../lib/api/thresholds.ts';
import { parseK6Version } from '../../run/k6-binary.ts';
import { API_SCENARIOS, junitCaseNames, verdictNames } from '../helpers/bundles.ts';
import { describeWithBinary, STOCK_K6, STOCK_K6_MISSING, useK6Runs } from '../helpers/k6-e2e.ts';
import { lastOfRun, promSeries, promValue } from '../helpers/prometheus.ts';

const M = K6_METRICS;

describeWithBinary('stock k6 end-to-end', STOCK_K6, STOCK_K6_MISSING, (STOCK) => {
  const k6 = useK6Runs(
    async () => {
      // It must really be extension-free, or this proves nothing.
      const { all } = await execa(STOCK, ['version'], { all: true });
      const { version, modules } = parseK6Version(all ?? '');
      if (version === null) throw new Error(`${STOCK} does not answer \`k6 version\` like k6`);
      if (modules.length > 0)
        throw new Error(`${STOCK} has extensions (${modules.join(', ')}): not a stock k6`);
      return STOCK;
    },
    { api: true },
  );

  describe('runs', () => {
    it('refuses an SQL bundle (the binary really has no xk6-sql)', async () => {
      const r = await k6.run('sql-write-load');
      expect(r.exitCode, r.output).not.toBe(0);
      expect(r.output).toMatch(/unknown module: k6\/x\/sql/);
    }, 60_000);

    it('an API scenario with an unreachable CQRS_API_URL stops at setup: one line, exit 108, within seconds', async () => {
      const started = Date.now();
      const r = await k6.run('api-read-after-write', {
        CQRS_API_URL: 'http://127.0.0.1:1',
        CQRS_DURATION: '30s',
      });
      expect(r.exitCode, r.output).toBe(108);
      expect(Date.now() - started, r.output).toBeLessThan(10_000);
      const failed = r.output.split('\n').filter((l) => l.includes('failed its check'));
      expect(failed, r.output).toHaveLength(1);
      expect(failed[0]).toContain(
        'api-read-after-write setup: API (http://127.0.0.1:1) failed its check: GET /readyz got no answer: ',
      );
      expect(failed[0]).toContain('connection refused');
      expect(r.output).toContain(
        'test aborted: api-read-after-write: 1 of 1 endpoints failed the setup check (API)',
      );
      expect(r.output).not.toMatch(/\\tat |Request Failed/);
      expect(r.summary).toBeNull();
    }, 60_000);

    it('runs smoke-config', async () => {
      const r = await k6.run('smoke-config');
      expect(r.exitCode, r.output).toBe(0);
    }, 60_000);

    for (const scenario of API_SCENARIOS) {
      it(`${scenario} runs 5 s on it, passes its thresholds and reconciles through the API`, async () => {
        const r = await k6.run(scenario);
        expect(r.exitCode, r.output).toBe(0);
        const f = r.figures;
        expect(f, r.output).not.toBeNull();
        expect(f?.probes, r.output).toBeGreaterThan(0);
        if (scenario === 'api-seed-compat') return; // GET /get acknowledges nothing to reconcile
        expect(f?.reconcile.acknowledged, r.output).toBeGreaterThan(0);
        // Every acknowledgement went through POST /probe-acks and was checked through GET /probe-acks.
        expect(f?.reconcile.inLedger).toBe(f?.reconcile.acknowledged);
        expect(f?.reconcile.checked).toBe(f?.reconcile.acknowledged);
        expect((f?.reconcile.missingWriter ?? 1) + (f?.reconcile.missingReader ?? 1)).toBe(0);
        expect(r.summary?.metrics[M.apiErrors.name]?.values.count ?? 0).toBe(0);
        // Server-side lags arrive over HTTP too (apply stamps through the API's headers).
        if (scenario === 'api-read-after-write') expect(f?.visibilityLag?.count, r.output).toBeGreaterThan(0);
        // One test case per default threshold, none for the submetrics the report keeps.
        expect(junitCaseNames(r.junit)).toEqual(verdictNames(apiThresholds(scenario as ApiScenarioName, {})));
        expect(r.report).not.toContain('## Endpoints');
      }, 120_000);
    }

    it('junit.xml and stdout list exactly the defaults plus CQRS_THRESHOLDS, though k6 evaluated the keeps too', async () => {
      const r = await k6.run('api-read-after-write', {
        CQRS_THRESHOLDS: JSON.stringify({
          [M.staleReadRatio.name]: ['rate<=1'],
          // The very expression that keeps this submetric: written by the user, so a verdict.
          [`${M.apiReads.name}{strategy:cache,source:replica}`]: ['count>=0'],
          [M.visibilityTimeouts.name]: [],
        }),
      });
      expect(r.exitCode, r.output).toBe(0);
      const expected = [
        'api_errors: count==0',
        'api_reads{strategy:cache,source:replica}: count>=0',
        'iteration_errors: count==0',
        'reconcile_errors: count==0',
        'reconcile_missing_reader: count==0',
        'reconcile_missing_writer: count==0',
        'stale_read_ratio: rate<=1',
      ];
      expect(junitCaseNames(r.junit), r.junit).toEqual(expected);
      expect(r.junit).toContain('<testsuites tests="7" failures="0">');
      const listed = r.output
        .split('\n')
        .flatMap((l) => l.match(/^ {4}[✓✗?] (.*)$/)?.[1] ?? [])
        .sort();
      expect(listed, r.output).toEqual(expected);
      // k6 had the keep-only thresholds and evaluated them: the reports left them out.
      const kept = r.summary?.metrics[`${M.apiReads.name}{strategy:eventual,source:replica}`];
      expect(kept?.thresholds, JSON.stringify(Object.keys(r.summary?.metrics ?? {}))).toEqual({
        'count>=0': { ok: true },
      });
      expect(r.output).not.toContain('max>=0');
    }, 120_000);

    it("streams to the stack's Prometheus with the one output module: its counters equal the summary's", async () => {
      const testid = `e2e-rw-${process.pid}`;
      const tags = { testid, script: 'api-read-after-write', lag: '0' };
      const out = k6OutputSettings({ prometheusUrl: k6.stack.endpoints.prometheusUrl }, tags);
      const r = await k6.run('api-read-after-write', { ...out.env, CQRS_TEST_ID: testid }, out.args);
      expect(r.exitCode, r.output).toBe(0);
      const prom = k6.stack.endpoints.prometheusUrl;
      const probes = r.summary?.metrics[M.probeReads.name]?.values.count ?? 0;
      expect(probes).toBeGreaterThan(0);
      // Counters sum over the strategies' series.
      const last = (series: string) => lastOfRun(series, testid);
      const total = await promValue(prom, `sum(${last(remoteWriteSeries(M.probeReads))})`);
      expect(total, r.output).toBe(probes);
      // Every run tag is a label of every series, the k6 builtins' too.
      const vus = await promSeries(prom, last('k6_vus'));
      expect(vus[0]).toMatchObject({ script: 'api-read-after-write', lag: '0' });
      // v1.1 has no K6_FEATURES, so it sends the trend stats (in seconds) instead of native histograms.
      const p99 = await promValue(prom, `max(${last(remoteWriteSeries(M.apiReadDuration, 'p(99)'))})`);
      expect(p99).toBeGreaterThan(0);
      expect(p99).toBeLessThan(5);
      // ...and the stale markers did end them: nothing is current any more.
      expect(await promSeries(prom, `k6_vus{testid="${testid}"}`)).toEqual([]);
    }, 120_000);
  });
});
