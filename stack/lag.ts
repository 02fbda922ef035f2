/**
 * `stack:lag` values. Sub-second lag goes through the delay proxy; whole seconds can also use the server's own
 * MASTER_DELAY/SOURCE_DELAY; freeze/thaw stop and start the replica's SQL thread.
 */
import { MAX_DELAY_MS } from './delay-proxy.ts';
import { StackError } from './errors.ts';

export type LagCommand =
  | { kind: 'proxy'; delayMs: number }
  | { kind: 'freeze' }
  | { kind: 'thaw' }
  | { kind: 'apply-delay'; seconds: number };

export const LAG_USAGE = 'expected a delay like 0, 5ms, 50ms, 1.5s, or freeze, thaw, apply-delay=2s';

export function parseLag(raw: string | undefined): LagCommand {
  const value = (raw ?? '').trim().toLowerCase();
  if (value === 'freeze' || value === 'thaw') return { kind: value };
  const applyDelay = /^(?:apply-delay|master-delay)=(\d+)s?$/.exec(value);
  if (applyDelay) {
    const seconds = Number(applyDelay[1]);
    if (seconds > 86_400) throw new StackError(`invalid lag "${raw}"; apply-delay is at most 86400s`);
    return { kind: 'apply-delay', seconds };
  }
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(value);
  if (!m) throw new StackError(`invalid lag "${raw ?? ''}"; ${LAG_USAGE}`);
  const amount = Number(m[1]);
  if (m[2] === undefined && amount !== 0) {
    throw new StackError(`invalid lag "${raw}"; give a unit (ms or s), ${LAG_USAGE}`);
  }
  const delayMs = m[2] === 's' ? amount * 1000 : amount;
  if (delayMs > MAX_DELAY_MS) throw new StackError(`invalid lag "${raw}"; at most ${MAX_DELAY_MS / 1000}s`);
  return { kind: 'proxy', delayMs };
}
