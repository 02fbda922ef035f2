/**
 * The experiment runner's variables: `npm start`'s own (run/experiment.ts) and how it finds k6
 * (run/k6-binary.ts), two sections, so looking for k6 (tests do) never trips over an experiment setting. The
 * k6 scenarios' CQRS_* variables are the k6 side's table (lib/config.ts); npm start passes them on.
 */
import { z } from 'zod';
import { parseLag } from '../stack/lag.ts';
import { envVar, FLAG_EXPECTED, flag } from './env.ts';

/** A delay the proxy can inject (freeze, thaw and apply-delay are not a steady lag to compare). */
function isProxyLag(lag: string): boolean {
  try {
    return parseLag(lag).kind === 'proxy';
  } catch {
    return false;
  }
}

const lagList = z
  .string()
  .default('0,5ms,50ms')
  .transform((raw) =>
    raw
      .split(',')
      .map((l) => l.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().refine(isProxyLag)).min(1));

export const EXPERIMENT_VARS = {
  lags: envVar(
    'CQRS_EXP_LAGS',
    lagList,
    'delays like 0,5ms,50ms',
    'Injected replication delays, one pair of runs each',
  ),
  /**
   * Handed to k6 as CQRS_DURATION, so run/experiment.ts checks it with that variable's own parser
   * (lib/config.ts), which config/ may not import: the runs cannot then read it another way.
   */
  duration: envVar(
    'CQRS_EXP_DURATION',
    z.string().default('10s'),
    'a duration like 10s',
    'Length of each run (CQRS_DURATION)',
  ),
  remoteWrite: envVar(
    'CQRS_EXP_REMOTE_WRITE',
    flag('1'),
    FLAG_EXPECTED,
    "0 keeps the runs' metrics off the stack's Prometheus (on by default: -o experimental-prometheus-rw)",
  ),
  webDashboard: envVar(
    'CQRS_EXP_WEB_DASHBOARD',
    flag('0'),
    FLAG_EXPECTED,
    "1 also saves k6's own web-dashboard report of each run (k6-dashboard.html in its report folder)",
  ),
  /**
   * The same variable the k6 side reads for where handleSummary writes; npm start resolves it (relative to
   * the project, or absolute), creates the folders, hands k6 a form it accepts and reads the summaries back.
   */
  reportDir: envVar(
    'CQRS_REPORT_DIR',
    z.string().default('reports'),
    'a folder path',
    'Folder under which each run gets a folder named for its test id',
  ),
  /** Where npm start bundles the scenarios before running them (tests point it at a temp folder). */
  bundleDir: envVar(
    'CQRS_BUNDLE_DIR',
    z.string().default('dist'),
    'a folder path',
    'Folder npm start bundles the scenarios into (relative to the project, or absolute)',
  ),
} as const;

export const K6_BINARY_VARS = {
  k6Bin: envVar('K6_BIN', z.string().optional(), 'a path to a k6 binary', 'The k6 binary (else k6 on PATH)'),
  autoExtensions: envVar(
    'CQRS_K6_AUTO_EXTENSIONS',
    flag('0'),
    FLAG_EXPECTED,
    '1 accepts a plain k6 ≥ 1.2 that resolves xk6-sql itself (network)',
  ),
} as const;
