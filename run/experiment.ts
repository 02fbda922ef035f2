/**
 * `npm start`: the default experiment on the local stack. Finds a k6 with xk6-sql (or stops with one line
 * saying how to get one), brings the stack up (reusing healthy services), builds the bundles, then runs
 * sql-read-after-write and sql-replica-lag at each injected lag and prints one comparison table. Reports go to
 * <CQRS_REPORT_DIR>/<test id>/ (default reports/). Knobs: the experiment's section of the Node-side table
 * (config/run.ts: CQRS_EXP_LAGS, CQRS_EXP_DURATION, CQRS_EXP_REMOTE_WRITE, CQRS_REPORT_DIR), plus every
 * CQRS_* k6 variable (lib/config.ts), passed on to k6.
 */
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { execa } from 'execa';
import { bundleScenarios } from '../build/bundle.ts';
import { ConfigError } from '../common/config-error.ts';
import { type StackEndpoints, toEnv } from '../common/endpoints.ts';
import {
  k6OutputSettings,
  newTestId,
  type RunTags,
  tagArgs,
  WEB_DASHBOARD_FILE,
  webDashboardEnv,
} from '../common/k6-output.ts';
import { type Env, readEnv } from '../config/env.ts';
import { EXPERIMENT_VARS } from '../config/run.ts';
import { CONFIG_SCHEMA } from '../lib/config.ts';
import { profileDurationMs } from '../lib/profiles.ts';
import type { SummaryData } from '../lib/summary/data.ts';
import { consistencyFigures, type FigureOptions } from '../lib/summary/figures.ts';
import { PROJECT_ROOT } from '../stack/config.ts';
import { oneLine } from '../stack/errors.ts';
import { loadStackConfig, setLag, stackUp } from '../stack/index.ts';
import { type ComparisonRow, comparisonTable } from './comparison.ts';
import { findK6, K6NotFoundError } from './k6-binary.ts';
import { grafanaRunLink, prometheusGraphLink, testIdPrefixMatcher, watchQueries } from './links.ts';
import { type RunMeta, writeExperimentReport, writeRunMeta, writeRunReport } from './report/files.ts';
import { heartbeatSeries } from './run-series.ts';

const SCENARIOS = ['sql-read-after-write', 'sql-replica-lag'] as const;

export interface Settings {
  lags: string[];
  duration: string;
  remoteWrite: boolean;
  webDashboard: boolean;
  /** Absolute: CQRS_REPORT_DIR resolved against the project (where k6 has always written `reports/`). */
  reportRoot: string;
  /** Absolute: CQRS_BUNDLE_DIR resolved against the project. */
  bundleRoot: string;
}

export function experimentSettings(env: Env): Settings {
  const { reportDir, bundleDir, ...rest } = readEnv(EXPERIMENT_VARS, env);
  const durationSpec = CONFIG_SCHEMA.durationMs;
  if (durationSpec.parser.parse(rest.duration) === undefined) {
    throw ConfigError.invalid(EXPERIMENT_VARS.duration.name, durationSpec.parser.expected, rest.duration);
  }
  const reportRoot = resolve(PROJECT_ROOT, reportDir);
  // k6 is handed the folder's name below its parent (k6Placement); the file system root has none.
  if (dirname(reportRoot) === reportRoot) {
    throw ConfigError.invalid(
      EXPERIMENT_VARS.reportDir.name,
      'a folder below the file system root',
      reportDir,
    );
  }
  return { ...rest, reportRoot, bundleRoot: resolve(PROJECT_ROOT, bundleDir) };
}

/** A path as the user best recognises it: relative inside the project, absolute elsewhere. */
export function displayPath(path: string): string {
  const rel = relative(PROJECT_ROOT, path);
  return rel === '' || rel === '..' || rel.startsWith('../') || isAbsolute(rel) ? path : rel;
}

export interface K6Placement {
  /** k6's working directory. */
  readonly cwd: string;
  /** CQRS_REPORT_DIR as k6 reads it, relative to `cwd`. */
  readonly reportDir: string;
  /** The bundle of a scenario, as given to `k6 run`. */
  script(scenario: string): string;
}

/**
 * Where k6 runs and which CQRS_REPORT_DIR it gets, so that handleSummary writes under `root`: the k6 side takes
 * only a relative folder without '..' (lib/config.ts). Inside the project k6 runs at the project root, as it
 * always has; elsewhere (a temp folder, say) it runs in the folder's parent and gets the bundle's full path.
 */
export function k6Placement(root: string, bundleRoot: string = join(PROJECT_ROOT, 'dist')): K6Placement {
  const rel = displayPath(root);
  const cwd = rel !== root ? PROJECT_ROOT : dirname(root);
  // A bundle below k6's working directory is named relative to it (`dist/x.js`, as by hand), else in full.
  const script = (s: string) => {
    const file = join(bundleRoot, `${s}.js`);
    const fromCwd = relative(cwd, file);
    return fromCwd.startsWith('..') || isAbsolute(fromCwd) ? file : fromCwd;
  };
  return rel !== root ? { cwd, reportDir: rel, script } : { cwd, reportDir: basename(root), script };
}

const log = (line: string) => console.log(line);

/**
 * Grafana's consistency dashboard when the stack runs a Grafana that answers, else Prometheus's graph page;
 * either shows every run of the experiment (their test ids start with `base`).
 */
async function watchLink(
  e: StackEndpoints,
  base: string,
  testIds: readonly string[],
  fromMs: number,
): Promise<string> {
  const grafana = await fetch(`${e.grafanaUrl}/api/health`, { signal: AbortSignal.timeout(1000) }).then(
    (r) => r.ok,
    () => false,
  );
  return grafana
    ? grafanaRunLink(e.grafanaUrl, testIds, fromMs)
    : prometheusGraphLink(e.prometheusUrl, watchQueries(testIdPrefixMatcher(base)));
}

/**
 * A report folder that already holds files belongs to an earlier run with the same test id: k6 would
 * overwrite its reports (and its rows would make this run's writes fail). Refused unless CQRS_REUSE_TEST_ID=1,
 * the variable with which the k6 scenarios' setup accepts a reused id too.
 */
export function refuseUsedReportDir(dir: string, env: Env): void {
  if (k6Setting('reuseTestId', env) === '1' || !existsSync(dir)) return;
  const files = readdirSync(dir);
  if (files.length === 0) return;
  throw new Error(
    `${displayPath(dir)}/ already holds a run's reports (${files.slice(0, 5).join(', ')}` +
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

interface K6Run {
  k6: string;
  scenario: string;
  /** The run's report folder, named for its test id: k6 writes into it only if it exists. */
  dir: string;
  placement: K6Placement;
  env: Record<string, string>;
  /** The run's `k6 run` arguments before the script (k6RunArgs). */
  args: readonly string[];
}

export interface RunOutput {
  /** Stream to this Prometheus (remote-write), else only the tags. */
  readonly prometheusUrl?: string;
  /** Save k6's web-dashboard report to this file. */
  readonly webDashboardFile?: string;
}

/**
 * The `k6 run` arguments and extra environment of one run: its tags always (so its summary and any output
 * carry them), the remote-write output when streaming (common/k6-output.ts, as every way of running gets it),
 * and k6's web-dashboard export on request.
 */
export function k6RunArgs(tags: RunTags, out: RunOutput): { args: string[]; env: Record<string, string> } {
  const stream = out.prometheusUrl ? k6OutputSettings({ prometheusUrl: out.prometheusUrl }, tags) : undefined;
  return {
    args: ['run', ...(stream ? stream.args : tagArgs(tags))],
    env: {
      ...(stream?.env ?? {}),
      ...(out.webDashboardFile ? webDashboardEnv(out.webDashboardFile) : {}),
    },
  };
}

async function runK6({ k6, scenario, dir, placement, env, args }: K6Run): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const logFile = createWriteStream(join(dir, 'k6.log'));
  const child = execa(k6, [...args, placement.script(scenario)], {
    cwd: placement.cwd,
    env,
    reject: false,
    all: true,
  });
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
export function workloadMs(env: Env, duration: string): number | undefined {
  const profile = k6Setting('profile', env);
  const ms = CONFIG_SCHEMA.durationMs.parser.parse(duration);
  return profile === undefined || ms === undefined ? undefined : profileDurationMs(profile, ms);
}

type K6Schema = typeof CONFIG_SCHEMA;
type K6Value<K extends keyof K6Schema> = K6Schema[K] extends { parser: { parse(raw: string): infer T } }
  ? T
  : never;

/**
 * A k6-side variable as the runs read it: with the k6 side's own parser and default (lib/config.ts), so npm
 * start and k6 agree. Undefined when it does not parse (the run then stops at init, exit 107).
 */
function k6Setting<K extends keyof K6Schema>(key: K, env: Env): K6Value<K> | undefined {
  return CONFIG_SCHEMA[key].parser.parse(k6Shown(key, env)) as K6Value<K> | undefined;
}

/** The text the k6 side parses for a variable: as given (trimmed), else its default. */
function k6Shown(key: keyof K6Schema, env: Env): string {
  const spec = CONFIG_SCHEMA[key];
  return env[spec.name]?.trim() ?? spec.default;
}

function readFigures(dir: string, opts: FigureOptions): ComparisonRow['figures'] {
  const file = join(dir, 'summary.json');
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
  await bundleScenarios({ outDir: settings.bundleRoot });

  const startedAt = new Date();
  const base = newTestId('exp', startedAt);
  const placement = k6Placement(settings.reportRoot, settings.bundleRoot);
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ...toEnv(up.endpoints),
    CQRS_DURATION: settings.duration,
    CQRS_REPORT_DIR: placement.reportDir,
  };
  const rows: ComparisonRow[] = [];
  const metas: RunMeta[] = [];
  const figureOptions = { workloadMs: workloadMs(env, settings.duration) };
  const total = settings.lags.length * SCENARIOS.length;
  const testIdOf = (scenario: string, lag: string) =>
    `${base}-${scenario.replace(/^sql-/, '')}-lag${lag.replace(/[^0-9a-z]/gi, '')}`;
  const reportDir = (testId: string) => join(settings.reportRoot, testId);
  const dirs = settings.lags.flatMap((lag) => SCENARIOS.map((s) => reportDir(testIdOf(s, lag))));
  // Before any run: a refusal should not come halfway through the experiment.
  for (const dir of dirs) refuseUsedReportDir(dir, env);
  const strategy = k6Shown('sqlStrategy', env);
  log(
    `runs: ${total} (lags ${settings.lags.join(', ')}; ${settings.duration} each; profile ${k6Shown('profile', env)}, ` +
      `strategy ${strategy})`,
  );
  const testIds = dirs.map((d) => basename(d));
  log(
    settings.remoteWrite
      ? `watch: ${await watchLink(up.endpoints, base, testIds, startedAt.getTime())}`
      : 'watch: nothing is streamed (CQRS_EXP_REMOTE_WRITE=0); the reports below are all there is',
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
        const dir = reportDir(testId);
        log(
          `[${rows.length + 1}/${total}] ${scenario} at ${lag} for ${settings.duration} → ${displayPath(dir)}/ ` +
            `(testid ${testId})`,
        );
        const run = k6RunArgs(
          { testid: testId, script: scenario, strategy, lag },
          {
            ...(settings.remoteWrite ? { prometheusUrl: up.endpoints.prometheusUrl } : {}),
            ...(settings.webDashboard ? { webDashboardFile: join(dir, WEB_DASHBOARD_FILE) } : {}),
          },
        );
        const runStartedMs = Date.now();
        const exitCode = await runK6({
          k6: k6.path,
          scenario,
          dir,
          placement,
          env: { ...env, ...run.env, CQRS_TEST_ID: testId },
          args: run.args,
        });
        const heartbeat = settings.remoteWrite
          ? await heartbeatSeries(up.endpoints.prometheusUrl, testId, runStartedMs, Date.now())
          : undefined;
        const meta: RunMeta = { scenario, lag, strategy, exitCode, ...(heartbeat ? { heartbeat } : {}) };
        metas.push(meta);
        writeRunMeta(dir, meta);
        const figures = readFigures(dir, figureOptions);
        if (figures) writeRunReport(dir, meta);
        rows.push({ scenario, lag, figures, exitCode });
      }
    }
  } finally {
    process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
    await setLag(cfg, '0').catch(() => {});
  }
  log(`\n${comparisonTable(rows)}\n`);
  // What exists, not what should: a run that stopped early (exit 107/108) wrote only its k6.log.
  log(`reports: ${displayPath(join(settings.reportRoot, base))}-*/`);
  for (const line of reportListing(dirs.slice(0, rows.length))) log(line);
  const reported = dirs.flatMap((dir, i) => (rows[i]?.figures ? [{ dir, meta: metas[i] ?? {} }] : []));
  if (reported.length > 0) {
    const file = writeExperimentReport(
      reported.map((r) => r.dir),
      join(settings.reportRoot, `${base}.html`),
      { title: `npm start ${base}: ${reported.length} runs`, meta: reported.map((r) => r.meta) },
    );
    log(`experiment report (opens offline): ${displayPath(file)}`);
  }
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
