/**
 * The report's file side: read a run's report folder (reports/<test id>/: k6's summary.json, and run.json when
 * the runner wrote one), and write report.html for one run or one file for a whole experiment.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { SummaryData } from '../../lib/summary/data.ts';
import { renderReport } from './html.ts';
import type { HeartbeatSeries, ReportRun } from './model.ts';

export const SUMMARY_FILE = 'summary.json';
export const REPORT_FILE = 'report.html';
/**
 * What the summary cannot say about its run: the injected lag (a k6 tag, absent from summary data), the SQL
 * strategy and k6's exit code. Optional: `npm start` may write it; without it the lag shows as `?`.
 */
export const RUN_META_FILE = 'run.json';

/** Facts about a run from outside its summary; each overrides what the folder says. */
export interface RunMeta {
  readonly scenario?: string;
  readonly lag?: string;
  readonly strategy?: string;
  readonly exitCode?: number;
  readonly heartbeat?: HeartbeatSeries;
}

export class ReportInputError extends Error {
  override name = 'ReportInputError';
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ReportInputError(
      `${file}: not valid JSON (${err instanceof Error ? err.message : String(err)})`,
    );
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function readSummary(dir: string): SummaryData {
  const file = join(dir, SUMMARY_FILE);
  if (!existsSync(file))
    throw new ReportInputError(`${dir}: no ${SUMMARY_FILE} (not a run's report folder?)`);
  const data = readJson(file);
  if (!isObject(data) || !isObject(data.metrics))
    throw new ReportInputError(`${file}: not k6 summary data (no "metrics" object)`);
  return data as unknown as SummaryData;
}

function readMeta(dir: string): RunMeta {
  const file = join(dir, RUN_META_FILE);
  if (!existsSync(file)) return {};
  const m = readJson(file);
  if (!isObject(m)) throw new ReportInputError(`${file}: expected an object`);
  return {
    scenario: str(m.scenario),
    lag: str(m.lag),
    strategy: str(m.strategy),
    exitCode: typeof m.exitCode === 'number' ? m.exitCode : undefined,
    heartbeat: heartbeatOf(m.heartbeat),
  };
}

/** <dir>/run.json: what npm start knows of a run beyond its summary, so `npm run report` can redraw it. */
export function writeRunMeta(dir: string, meta: RunMeta): void {
  writeFileSync(join(dir, RUN_META_FILE), `${JSON.stringify(meta)}\n`);
}

const numbers = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number');

/** A heartbeat series as run.json holds it; undefined unless both columns are numbers of the same length. */
function heartbeatOf(v: unknown): HeartbeatSeries | undefined {
  if (!isObject(v) || !numbers(v.t) || !numbers(v.lagMs) || v.t.length !== v.lagMs.length) return undefined;
  return { t: v.t, lagMs: v.lagMs };
}

const defined = (meta: RunMeta): RunMeta =>
  Object.fromEntries(Object.entries(meta).filter(([, v]) => v !== undefined)) as RunMeta;

/** One run from its report folder; the test id is the folder's name, the scenario from setup() if not given. */
export function readReportRun(dir: string, meta: RunMeta = {}): ReportRun {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ReportInputError(`${dir}: no such folder`);
  const summary = readSummary(dir);
  const setup = isObject(summary.setup_data) ? summary.setup_data : {};
  const m = { ...readMeta(dir), ...defined(meta) };
  return {
    testId: basename(dir),
    scenario: m.scenario ?? str(setup.scenario) ?? '?',
    lag: m.lag ?? '?',
    ...(m.strategy === undefined ? {} : { strategy: m.strategy }),
    ...(m.exitCode === undefined ? {} : { exitCode: m.exitCode }),
    ...(m.heartbeat === undefined ? {} : { heartbeat: m.heartbeat }),
    summary,
  };
}

export interface WriteOptions {
  readonly title?: string;
  /** ISO time; now when not given. */
  readonly generatedAt?: string;
}

function write(file: string, html: string): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, html);
  return file;
}

/** <dir>/report.html for one run; returns its path. */
export function writeRunReport(dir: string, meta: RunMeta = {}, opts: WriteOptions = {}): string {
  const run = readReportRun(dir, meta);
  return write(
    join(dir, REPORT_FILE),
    renderReport({
      title: opts.title ?? `${run.scenario} — ${run.testId}`,
      generatedAt: opts.generatedAt ?? new Date().toISOString(),
      runs: [run],
    }),
  );
}

/** One report over several runs (an experiment) at `out`; `meta` lines up with `dirs`. Returns `out`. */
export function writeExperimentReport(
  dirs: readonly string[],
  out: string,
  opts: WriteOptions & { readonly meta?: readonly RunMeta[] } = {},
): string {
  if (dirs.length === 0) throw new ReportInputError('no report folders given');
  const runs = dirs.map((dir, i) => readReportRun(dir, opts.meta?.[i]));
  return write(
    out,
    renderReport({
      title: opts.title ?? `Experiment — ${runs.length} runs`,
      generatedAt: opts.generatedAt ?? new Date().toISOString(),
      runs,
    }),
  );
}
