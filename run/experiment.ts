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
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { bundleScenarios } from '../build/bundle.ts';
import { ConfigError } from '../common/config-error.ts';
import type { Flavor } from '../common/dialect.ts';
import { type StackEndpoints, toEnv } from '../common/endpoints.ts';
import {
  k6OutputSettings,
  newTestId,
  type RunTags,
  tagArgs,
  WEB_DASHBOARD_FILE,
  webDashboardEnv,
} from '../common/k6-output.ts';
import {
  resolveStrategy,
  SQL_PROBE_STRATEGIES,
  type SqlProbeStrategy,
  type Strategy,
  strategyAvailable,
  unavailableReason,
} from '../common/strategies.ts';
import { serverKind, TOPOLOGIES, type Topology } from '../common/topology.ts';
import { type Env, pick, readEnv } from '../config/env.ts';
import { EXPERIMENT_VARS } from '../config/run.ts';
import { STACK_VARS } from '../config/stack.ts';
import { strategyRows } from '../lib/api/report.ts';
import { CONFIG_SCHEMA, defaultApiStrategies } from '../lib/config.ts';
import { profileDurationMs } from '../lib/profiles.ts';
import type { SummaryData } from '../lib/summary/data.ts';
import { consistencyFigures, type FigureOptions } from '../lib/summary/figures.ts';
import { findBinaries } from '../stack/binaries.ts';
import { PROJECT_ROOT } from '../stack/config.ts';
import { oneLine } from '../stack/errors.ts';
import {
  loadStackConfig,
  runningTopology,
  type StackConfig,
  setLag,
  stackDown,
  stackUp,
  type UpResult,
} from '../stack/index.ts';
import { parseLag } from '../stack/lag.ts';
import { readRegistry } from '../stack/processes.ts';
import {
  type ComparisonRow,
  comparisonTable,
  runResult,
  type TopologyRow,
  topologyStrategyTable,
} from './comparison.ts';
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

/** What `npm start -- --topology` takes: one topology, or both one after the other (the combined comparison). */
export const EXPERIMENT_MODES = [...TOPOLOGIES, 'both'] as const;
export type ExperimentMode = (typeof EXPERIMENT_MODES)[number];

/**
 * `--topology` wins over CQRS_STACK_TOPOLOGY (the stack's own variable, read with its own schema, so both
 * agree by default); only the flag can say `both`.
 */
export function experimentMode(argv: readonly string[], env: Env): ExperimentMode {
  const { values } = parseArgs({
    args: [...argv],
    options: { topology: { type: 'string' } },
    allowPositionals: false,
  });
  if (values.topology === undefined) return readEnv(pick(STACK_VARS, 'topology'), env).topology;
  if (!(EXPERIMENT_MODES as readonly string[]).includes(values.topology)) {
    throw new Error(`invalid --topology "${values.topology}"; expected one of ${EXPERIMENT_MODES.join('|')}`);
  }
  return values.topology as ExperimentMode;
}

/** A lag's delay in ms (config/run.ts has checked it is one the proxy takes). */
const delayMsOf = (lag: string): number => {
  const cmd = parseLag(lag);
  return cmd.kind === 'proxy' ? cmd.delayMs : 0;
};

/**
 * The lags a topology's lag runs use: CQRS_EXP_LAGS on the async pair; on the cluster only its natural lag, 0,
 * since a steady delay cannot be injected honestly there (stack/lag-control.ts). An explicit non-zero lag for
 * the cluster alone is refused rather than dropped.
 */
export function lagsFor(
  topology: Topology,
  settings: Pick<Settings, 'lags'>,
  env: Env,
  /** The combined mode: CQRS_EXP_LAGS is the async pair's, so the cluster takes 0 without a word. */
  combined = false,
): string[] {
  if (topology === 'async') return settings.lags;
  const asked = env[EXPERIMENT_VARS.lags.name];
  if (
    !combined &&
    asked !== undefined &&
    asked.trim() !== '' &&
    settings.lags.some((l) => delayMsOf(l) !== 0)
  ) {
    throw ConfigError.invalid(
      EXPERIMENT_VARS.lags.name,
      '0 on the cluster topology (it runs at its natural lag; a steady delay cannot be injected on Galera)',
      asked,
    );
  }
  return ['0'];
}

/** The strategies the API comparison runs on a stack: all it can serve but router-split (no Router here). */
export function comparedStrategies(flavor: Flavor, topology: Topology): readonly Strategy[] {
  return defaultApiStrategies(serverKind(flavor, topology));
}

/** One SQL run of the experiment. */
export interface SqlRunSpec {
  readonly topology: Topology;
  readonly scenario: (typeof SCENARIOS)[number];
  readonly strategy: string;
  readonly lag: string;
  readonly testId: string;
}

/** The experiment's runs on one topology: its SQL runs in order, and its API comparison (at `lag`) if any. */
export interface TopologyPlan {
  readonly topology: Topology;
  readonly sql: readonly SqlRunSpec[];
  readonly api: { readonly lag: string; readonly testId: string } | null;
}

const idPart = (v: string) => v.replace(/[^0-9a-z]/gi, '');

/** The SQL probe strategies a topology's servers serve (CQRS_SQL_STRATEGY values that can run there). */
export function sqlStrategiesOn(flavor: Flavor, topology: Topology): SqlProbeStrategy[] {
  return SQL_PROBE_STRATEGIES.filter((s) => strategyAvailable(s, serverKind(flavor, topology)));
}

/**
 * What npm start runs. `async` (the default): sql-read-after-write and sql-replica-lag at each CQRS_EXP_LAGS
 * lag, with CQRS_SQL_STRATEGY, as it always has. `cluster`: at the natural lag, sql-read-after-write once per
 * SQL strategy the cluster serves, sql-replica-lag, and the API comparison of its strategies. `both`: the
 * read-after-write comparison on each topology: per SQL strategy (the async pair at each lag, the cluster at
 * its natural lag), and the API comparison (the async pair at the largest lag, where its fixes show).
 */
export function planRuns(
  base: string,
  mode: ExperimentMode,
  settings: Pick<Settings, 'lags'>,
  env: Env,
  flavor: Flavor = 'mariadb',
): TopologyPlan[] {
  if (mode === 'async') {
    const strategy = k6Shown('sqlStrategy', env);
    // Refused here, once, rather than by every run at init (exit 107).
    const resolved = resolveStrategy(strategy);
    if (resolved && !strategyAvailable(resolved, serverKind(flavor, 'async'))) {
      throw ConfigError.invalid(
        CONFIG_SCHEMA.sqlStrategy.name,
        `a strategy the async topology serves (${unavailableReason(resolved, serverKind(flavor, 'async'))}; try --topology cluster)`,
        strategy,
      );
    }
    return [
      {
        topology: 'async',
        sql: settings.lags.flatMap((lag) =>
          SCENARIOS.map((scenario) => ({
            topology: 'async' as const,
            scenario,
            strategy,
            lag,
            testId: `${base}-${scenario.replace(/^sql-/, '')}-lag${idPart(lag)}`,
          })),
        ),
        api: null,
      },
    ];
  }
  const topologies: Topology[] = mode === 'both' ? ['async', 'cluster'] : ['cluster'];
  return topologies.map((topology) => {
    const lags = lagsFor(topology, settings, env, mode === 'both');
    const perStrategy = lags.flatMap((lag) =>
      sqlStrategiesOn(flavor, topology).map((strategy) => ({
        topology,
        scenario: 'sql-read-after-write' as const,
        strategy,
        lag,
        // Short: a test id is at most 64 characters (lib/config.ts CQRS_TEST_ID).
        testId: `${base}-${topology}-rw-${strategy}-lag${idPart(lag)}`,
      })),
    );
    const replicaLag =
      mode === 'cluster'
        ? [
            {
              topology,
              scenario: 'sql-replica-lag' as const,
              strategy: 'eventual',
              lag: '0',
              testId: `${base}-${topology}-replica-lag-lag0`,
            },
          ]
        : [];
    return {
      topology,
      sql: [...perStrategy, ...replicaLag],
      // The largest lag: where the async pair's client-side fixes show.
      api: {
        lag: lags.reduce((a, b) => (delayMsOf(b) > delayMsOf(a) ? b : a), lags[0] ?? '0'),
        testId: `${base}-api-${topology}`,
      },
    };
  });
}

/** Every run the plan makes, by test id, in order (the watch link names them all up front). */
export function plannedTestIds(plans: readonly TopologyPlan[]): string[] {
  return plans.flatMap((p) => [...p.sql.map((r) => r.testId), ...(p.api ? [p.api.testId] : [])]);
}

interface Experiment {
  readonly k6: string;
  readonly settings: Settings;
  readonly base: string;
  readonly placement: K6Placement;
  readonly startedAt: Date;
  /** What every run's report folder is: for the final listing and the experiment report. */
  readonly runs: { dir: string; meta: RunMeta; reported: boolean }[];
}

/** One k6 run of the experiment: streamed, tagged, its meta and HTML report written; its exit code. */
async function oneRun(
  x: Experiment,
  up: UpResult,
  env: Record<string, string>,
  spec: { scenario: string; testId: string; lag: string; strategy?: string },
): Promise<{ dir: string; exitCode: number }> {
  const dir = join(x.settings.reportRoot, spec.testId);
  const run = k6RunArgs(
    {
      testid: spec.testId,
      script: spec.scenario,
      ...(spec.strategy ? { strategy: spec.strategy } : {}),
      lag: spec.lag,
    },
    {
      ...(x.settings.remoteWrite ? { prometheusUrl: up.endpoints.prometheusUrl } : {}),
      ...(x.settings.webDashboard ? { webDashboardFile: join(dir, WEB_DASHBOARD_FILE) } : {}),
    },
  );
  const runStartedMs = Date.now();
  const exitCode = await runK6({
    k6: x.k6,
    scenario: spec.scenario,
    dir,
    placement: x.placement,
    env: { ...env, ...run.env, CQRS_TEST_ID: spec.testId },
    args: run.args,
  });
  const heartbeat = x.settings.remoteWrite
    ? await heartbeatSeries(up.endpoints.prometheusUrl, spec.testId, runStartedMs, Date.now())
    : undefined;
  const meta: RunMeta = {
    scenario: spec.scenario,
    lag: spec.lag,
    ...(spec.strategy ? { strategy: spec.strategy } : {}),
    exitCode,
    ...(heartbeat ? { heartbeat } : {}),
  };
  writeRunMeta(dir, meta);
  const reported = existsSync(join(dir, 'summary.json'));
  if (reported) writeRunReport(dir, meta);
  x.runs.push({ dir, meta, reported });
  return { dir, exitCode };
}

/** The stack of one topology, started (or reused); in the combined mode the other one is stopped first. */
async function stackFor(topology: Topology, switching: boolean): Promise<{ cfg: StackConfig; up: UpResult }> {
  const cfg = loadStackConfig(process.env, { topology });
  const running = runningTopology(readRegistry(cfg.stateDir), cfg.stateDir);
  if (switching && running && running !== topology) {
    log(`stack: stopping the ${running} topology to start the ${topology} one`);
    await stackDown(cfg, {}, log);
  }
  return { cfg, up: await stackUp(cfg, log) };
}

function k6Env(x: Experiment, up: UpResult): Record<string, string> {
  return {
    ...(process.env as Record<string, string>),
    ...toEnv(up.endpoints),
    CQRS_DURATION: x.settings.duration,
    CQRS_REPORT_DIR: x.placement.reportDir,
  };
}

/** The plan's SQL runs on one stack, lag by lag (set before the runs at it); one comparison row each. */
async function sqlRuns(
  x: Experiment,
  cfg: StackConfig,
  up: UpResult,
  specs: readonly SqlRunSpec[],
  labelled: boolean,
): Promise<ComparisonRow[]> {
  const env = k6Env(x, up);
  const figureOptions = { workloadMs: workloadMs(env, x.settings.duration) };
  const strategies = [...new Set(specs.map((s) => s.strategy))];
  log(
    `runs: ${specs.length} on the ${cfg.topology} topology (lags ${[...new Set(specs.map((s) => s.lag))].join(', ')}; ` +
      `${x.settings.duration} each; profile ${k6Shown('profile', env)}, strategy ${strategies.join(', ')})`,
  );
  const rows: ComparisonRow[] = [];
  let lag: string | undefined;
  try {
    for (const spec of specs) {
      if (spec.lag !== lag) {
        lag = spec.lag;
        log(`lag: ${await setLag(cfg, lag)}`);
      }
      log(
        `[${rows.length + 1}/${specs.length}] ${spec.scenario}${labelled ? ` (${spec.strategy})` : ''} at ${spec.lag} for ` +
          `${x.settings.duration} → ${displayPath(join(x.settings.reportRoot, spec.testId))}/ (testid ${spec.testId})`,
      );
      const { dir, exitCode } = await oneRun(x, up, { ...env, CQRS_SQL_STRATEGY: spec.strategy }, spec);
      rows.push({
        scenario: spec.scenario,
        lag: spec.lag,
        figures: readFigures(dir, figureOptions),
        exitCode,
        ...(labelled ? { topology: spec.topology, strategy: spec.strategy } : {}),
      });
    }
  } finally {
    await setLag(cfg, '0').catch(() => {});
  }
  return rows;
}

/** One api-read-after-write run comparing every strategy the topology serves. */
async function strategyRun(
  x: Experiment,
  cfg: StackConfig,
  up: UpResult,
  api: NonNullable<TopologyPlan['api']>,
): Promise<TopologyRow[]> {
  const env = k6Env(x, up);
  const strategies = comparedStrategies(up.endpoints.flavor, cfg.topology);
  const scenario = 'api-read-after-write';
  log(`lag: ${await setLag(cfg, api.lag)}`);
  log(
    `[api] ${scenario} on the ${cfg.topology} topology at ${api.lag}, strategies ${strategies.join(', ')}, for ` +
      `${x.settings.duration} → ${displayPath(join(x.settings.reportRoot, api.testId))}/ (testid ${api.testId})`,
  );
  try {
    const { dir, exitCode } = await oneRun(
      x,
      up,
      { ...env, CQRS_API_STRATEGIES: strategies.join(',') },
      { scenario, testId: api.testId, lag: api.lag },
    );
    const file = join(dir, 'summary.json');
    if (!existsSync(file)) {
      log(
        `  ${scenario} on ${cfg.topology}: no summary (${runResult(exitCode)}); see ${displayPath(dir)}/k6.log`,
      );
      return [];
    }
    const data = JSON.parse(readFileSync(file, 'utf8')) as SummaryData;
    return strategyRows(data, strategies).map((row) => ({
      topology: cfg.topology,
      lag: api.lag,
      row,
      exitCode,
    }));
  } finally {
    await setLag(cfg, '0').catch(() => {});
  }
}

async function main(): Promise<number> {
  const mode = experimentMode(process.argv.slice(2), process.env);
  const settings = experimentSettings(process.env);
  const startedAt = new Date();
  const base = newTestId('exp', startedAt);
  // Planned once, before anything starts: a bad lag or strategy, or a report folder an earlier run holds, is
  // refused here rather than halfway through the experiment.
  const plans = planRuns(base, mode, settings, process.env, (await findBinaries()).flavor);
  for (const id of plannedTestIds(plans)) refuseUsedReportDir(join(settings.reportRoot, id), process.env);
  const k6 = await findK6(process.env);
  log(
    `k6: ${k6.path} (v${k6.version}, xk6-sql ${k6.sql === 'bundled' ? 'built in' : 'resolved at run time'})`,
  );
  log('build: bundling scenarios');
  await bundleScenarios({ outDir: settings.bundleRoot });
  const x: Experiment = {
    k6: k6.path,
    settings,
    base,
    placement: k6Placement(settings.reportRoot, settings.bundleRoot),
    startedAt,
    runs: [],
  };

  // Ctrl-C ends k6 too (same process group); put the stack's lag back before leaving, as the runs' finally
  // would, so the next manual run does not inherit an injected delay. A wrapper such as tsx relays the signal
  // again: the handler stays installed and acts once.
  let current: StackConfig | undefined;
  let interrupting = false;
  const interrupted = (signal: NodeJS.Signals) => {
    if (interrupting) return;
    interrupting = true;
    log(`\n${signal}: resetting the injected lag to 0`);
    void (current ? setLag(current, '0') : Promise.resolve(''))
      .catch(() => {})
      .finally(() => process.exit(130));
  };
  process.on('SIGINT', interrupted).on('SIGTERM', interrupted);
  const lagRows: ComparisonRow[] = [];
  const strategyRowsAll: TopologyRow[] = [];
  try {
    for (const plan of plans) {
      const { cfg, up } = await stackFor(plan.topology, mode === 'both');
      current = cfg;
      if (plan === plans[0]) {
        log(
          settings.remoteWrite
            ? `watch: ${await watchLink(up.endpoints, x.base, plannedTestIds(plans), startedAt.getTime())}`
            : 'watch: nothing is streamed (CQRS_EXP_REMOTE_WRITE=0); the reports below are all there is',
        );
      }
      lagRows.push(...(await sqlRuns(x, cfg, up, plan.sql, mode !== 'async')));
      if (plan.api) strategyRowsAll.push(...(await strategyRun(x, cfg, up, plan.api)));
    }
  } finally {
    process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
  }
  if (lagRows.length > 0) log(`\n${comparisonTable(lagRows)}\n`);
  if (strategyRowsAll.length > 0) {
    log(`\nthe API's strategies (api-read-after-write):\n${topologyStrategyTable(strategyRowsAll)}\n`);
  }
  // What exists, not what should: a run that stopped early (exit 107/108) wrote only its k6.log.
  log(`reports: ${displayPath(join(settings.reportRoot, x.base))}-*/`);
  for (const line of reportListing(x.runs.map((r) => r.dir))) log(line);
  const reported = x.runs.filter((r) => r.reported);
  if (reported.length > 0) {
    const file = writeExperimentReport(
      reported.map((r) => r.dir),
      join(settings.reportRoot, `${x.base}.html`),
      { title: `npm start ${x.base}: ${reported.length} runs`, meta: reported.map((r) => r.meta) },
    );
    log(`experiment report (opens offline): ${displayPath(file)}`);
  }
  // Threshold failures (99) are results, not breakage; anything else is.
  const codes = x.runs.map((r) => r.meta.exitCode ?? 1);
  return codes.some((c) => c !== 0 && c !== 99) ? 1 : 0;
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
