/** The real clock inside k6: sub-millisecond `performance.now()` where the runtime has it, else Date.now(). */
import { sleep } from 'k6';
import type { Clock } from '../store.ts';

const perf = (globalThis as { performance?: { now?: () => number } }).performance;
const now: () => number =
  typeof perf?.now === 'function' ? () => (perf.now as () => number)() : () => Date.now();

export const k6Clock: Clock = {
  now,
  sleep: (ms) => {
    if (ms > 0) sleep(ms / 1000);
  },
};
