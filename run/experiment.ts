/**
 * `npm start`: the default experiment on the local stack. Finds a k6 with xk6-sql (or stops with one line
 * saying how to get one), brings the stack up (reusing healthy services), builds the bundles, then runs
 * sql-read-after-write and sql-replica-lag at each injected lag and prints one comparison table. Reports stay
 * in reports/<test id>/. Knobs: CQRS_EXP_LAGS (default 0,5ms,50ms), CQRS_EXP_DURATION (default 10s),
 * CQRS_EXP_REMOTE_WRITE=1 (send metrics to the stack's Prometheus), plus every CQRS_* k6 variable.
 */
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { execa } from 'execa';
import { bundleScenarios } from '../build/bundle.ts';
import { toEnv } from '../common/endpoints.ts';
import { CONFIG_SCHEMA } from '../lib/config.ts';
import { parseDurationMs } from '../lib/duration.ts';
import { profileDurationMs } from '../lib/profiles.ts';
import type { SummaryData } from '../lib/summary/data.ts';
import { consistencyFigures, type FigureOptions } from '../lib/summary/figures.ts';
import { PROJECT_ROOT } from '../stack/config.ts';
import { oneLine } from '../stack/errors.ts';
import { loadStackConfig, setLag, stackUp } from '../stack/index.ts';
import { parseLag } from '../stack/lag.ts';
import { type ComparisonRow, comparisonTable } from './comparison.ts';
import { findK6, K6NotFoundError } from './k6-binary.ts';

const SCENARIOS = ['sql-read-after-write', 'sql-replica-lag'] as const;

interface Settings {
  lags: string[];
  duration: string;
  remoteWrite: boolean;
}

export function experimentSettings(env: NodeJS.ProcessEnv): Settings {
  const lags = (env.CQRS_EXP_LAGS ?? '0,5ms,50ms')
    .split(',')
    .map((l) => l.trim())
    .filter(Boolean);
  for (const lag of lags) {
    if (parseLag(lag).kind !== 'proxy') {
      throw new Error(`invalid CQRS_EXP_LAGS; reason: expected delays like 0,5ms,50ms, got "${lag}"`);
    }
  }
  if (lags.length === 0)
    throw new Error('invalid CQRS_EXP_LAGS; reason: expected delays like 0,5ms,50ms, got ""');
  const duration = env.CQRS_EXP_DURATION ?? '10s';
  const ms = parseDurationMs(duration);
  if (ms === null || ms < 1000) {
    throw new Error(
      `invalid CQRS_EXP_DURATION; reason: expected a duration ≥ 1s like 10s, got "${duration}"`,
    );
  }
  return { lags, duration, remoteWrite: env.CQRS_EXP_REMOTE_WRITE === '1' };
}

const log = (line: string) => console.log(line);

/**
 * A report folder that already holds files belongs to an earlier run with the same test id: k6 would
 * overwrite its reports (and its rows would make this run's writes fail). Refused unless CQRS_REUSE_TEST_ID=1,
 * the variable with which the k6 scenarios' setup accepts a reused id too.
 */
export function refuseUsedReportDir(dir: string, env: Readonly<Record<string, string | undefined>>): void {
  if (env.CQRS_REUSE_TEST_ID === '1' || !existsSync(dir)) return;
  const files = readdirSync(dir);
  if (files.length === 0) return;
  throw new Error(
    `${relative(PROJECT_ROOT, dir) || dir}/ already holds a run's reports (${files.slice(0, 5).join(', ')}` +
      `${files.length > 5 ? ', …' : ''}); remove it, or set CQRS_REUSE_TEST_ID=1 to overwrite them`,
  );
}

/** One line per run folder naming the files that exist in it (k6 writes them only into a folder that exists). */
export function reportListing(dirs: readonly string[]): string[] {
  return dirs.map((dir) => {
    const files = existsSync(dir) ? readdirSync(dir).sort() : [];
    return `  ${basename(dir)}/: ${files.length > 0 ? files.join(', ') : 'nothing was written'}`;
  });
}

async function runK6(
  k6: string,
  scenario: string,
  testId: string,
  lag: string,
  env: Record<string, string>,
  remoteWrite: boolean,
): Promise<number> {
  const dir = reportDir(testId);
  mkdirSync(dir, { recursive: true });
  const logFile = createWriteStream(join(dir, 'k6.log'));
  const args = ['run', '--tag', `testid=${testId}`, '--tag', `lag=${lag}`];
  if (remoteWrite) args.push('-o', 'experimental-prometheus-rw');
  args.push(join('dist', `${scenario}.js`));
  const child = execa(k6, args, { cwd: PROJECT_ROOT, env, reject: false, all: true });
  child.all?.pipe(logFile);
  const started = Date.now();
  // k6's own progress goes to the log file; a tick here shows the run is alive.
  const tick = setInterval(() => log(`      … ${Math.round((Date.now() - started) / 1000)} s`), 5000);
  try {
    const done = await child;
    return done.exitCode ?? 1;
  } finally {
    clearInterval(tick);
  }
}

/**
 * The length of each run's scheduled workload (its profile's stages), so the generator figures' rates compare
 * with CQRS_RATE; undefined (rates over the whole run) for a profile or duration it cannot read.
 */
export function workloadMs(
  env: Readonly<Record<string, string | undefined>>,
  duration: string,
): number | undefined {
  // The k6 side's own parsers (lib/config.ts), so npm start reads these values exactly as the runs did.
  const spec = CONFIG_SCHEMA.profile;
  const profile = spec.parser.parse(env[spec.name]?.trim() ?? spec.default);
  const ms = CONFIG_SCHEMA.durationMs.parser.parse(duration);
  return profile === undefined || ms === undefined ? undefined : profileDurationMs(profile, ms);
}

const reportDir = (testId: string) => join(PROJECT_ROOT, 'reports', testId);

function readFigures(testId: string, opts: FigureOptions): ComparisonRow['figures'] {
  const file = join(reportDir(testId), 'summary.json');
  if (!existsSync(file)) return null;
  return consistencyFigures(JSON.parse(readFileSync(file, 'utf8')) as SummaryData, opts);
}

async function main(): Promise<number> {
  const settings = experimentSettings(process.env);
  const k6 = await findK6(process.env);
  log(
    `k6: ${k6.path} (v${k6.version}, xk6-sql ${k6.sql === 'bundled' ? 'built in' : 'resolved at run time'})`,
  );

  const cfg = loadStackConfig();
  const up = await stackUp(cfg, log);
  log('build: bundling scenarios');
  await bundleScenarios();

  const base = `exp-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}`;
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ...toEnv(up.endpoints),
    CQRS_DURATION: settings.duration,
  };
  const rows: ComparisonRow[] = [];
  const figureOptions = { workloadMs: workloadMs(env, settings.duration) };
  const total = settings.lags.length * SCENARIOS.length;
  const testIdOf = (scenario: string, lag: string) =>
    `${base}-${scenario.replace(/^sql-/, '')}-lag${lag.replace(/[^0-9a-z]/gi, '')}`;
  const dirs = settings.lags.flatMap((lag) => SCENARIOS.map((s) => reportDir(testIdOf(s, lag))));
  // Before any run: a refusal should not come halfway through the experiment.
  for (const dir of dirs) refuseUsedReportDir(dir, env);
  log(
    `runs: ${total} (lags ${settings.lags.join(', ')}; ${settings.duration} each; profile ${env.CQRS_PROFILE ?? 'smoke'}, ` +
      `strategy ${env.CQRS_SQL_STRATEGY ?? 'eventual'})`,
  );
  // Ctrl-C ends k6 too (same process group); put the stack's lag back before leaving, as the finally below
  // would, so the next manual run does not inherit an injected delay.
  // A wrapper such as tsx relays the signal again: the handler stays installed and acts once.
  let interrupting = false;
  const interrupted = (signal: NodeJS.Signals) => {
    if (interrupting) return;
    interrupting = true;
    log(`\n${signal}: resetting the injected lag to 0`);
    void setLag(cfg, '0')
      .catch(() => {})
      .finally(() => process.exit(130));
  };
  process.on('SIGINT', interrupted).on('SIGTERM', interrupted);
  try {
    for (const lag of settings.lags) {
      log(`lag: ${await setLag(cfg, lag)}`);
      for (const scenario of SCENARIOS) {
        const testId = testIdOf(scenario, lag);
        log(
          `[${rows.length + 1}/${total}] ${scenario} at ${lag} for ${settings.duration} → reports/${testId}/`,
        );
        const exitCode = await runK6(
          k6.path,
          scenario,
          testId,
          lag,
          { ...env, CQRS_TEST_ID: testId },
          settings.remoteWrite,
        );
        rows.push({ scenario, lag, figures: readFigures(testId, figureOptions), exitCode });
      }
    }
  } finally {
    process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
    await setLag(cfg, '0').catch(() => {});
  }
  log(`\n${comparisonTable(rows)}\n`);
  // What exists, not what should: a run that stopped early (exit 107/108) wrote only its k6.log.
  log(`reports: reports/${base}-*/`);
  for (const line of reportListing(dirs.slice(0, rows.length))) log(line);
  // Threshold failures (99) are results, not breakage; anything else is.
  return rows.some((r) => r.exitCode !== 0 && r.exitCode !== 99) ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(
        err instanceof K6NotFoundError ? `npm start: ${err.message}` : `npm start: ${oneLine(err)}`,
      );
      process.exit(1);
    },
  );
}
