/**
 * Heartbeat lag sampling shared by the SQL scenarios (and any other heartbeat source): one sample, checked
 * for monotonic reads on the `heartbeat` stream of the VU's session.
 */
import type { SessionChecker } from './session.ts';
import type { Clock, HeartbeatSample, HeartbeatSource } from './store.ts';

export const HEARTBEAT_STREAM = 'heartbeat';

export function sampleHeartbeat(
  source: HeartbeatSource,
  fromUs: number,
  clock: Clock,
  session?: SessionChecker,
): HeartbeatSample | null {
  const sample = source.sample(fromUs);
  if (sample && session) session.observe(HEARTBEAT_STREAM, sample.tsMs, clock.now());
  return sample;
}
