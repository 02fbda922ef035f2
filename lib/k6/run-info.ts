/**
 * Who this run and runner are. `setup()` resolves it once per runner and hands it to every VU and to teardown
 * (k6-operator runs setup/teardown in every runner, so the runner id scopes what each one reconciles).
 */
import exec from 'k6/execution';
import type { Config } from '../config.ts';
import type { RunScope } from '../store.ts';

export interface RunInfo extends RunScope {
  readonly scenario: string;
  readonly startedAtMs: number;
  /** Where every VU's probe sequence starts: 0, or past any earlier run's when the id is reused. */
  readonly seqBase: number;
}

function instanceTag(): string | undefined {
  try {
    const id = exec.test.options.tags?.instance_id;
    return id === undefined ? undefined : String(id);
  } catch {
    return undefined;
  }
}

export function resolveRunInfo(config: Config, scenario: string, nowMs: number): RunInfo {
  // Without CQRS_TEST_ID each runner invents its own id; on k6-operator set it so runners share one run id.
  const runId = config.testId || `${scenario}-${nowMs.toString(36)}`;
  const runner = config.runner || (instanceTag() ?? '0').replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 32) || '0';
  return { scenario, runId, runner, startedAtMs: nowMs, seqBase: 0 };
}

/** The globally unique VU id (unique across runners too). */
export function vuId(): number {
  // setup() and teardown() run outside any scenario VU: their rows belong to "VU 0".
  try {
    return exec.vu.idInTest;
  } catch {
    return 0;
  }
}
