/** Where each case's CPU goes: utime+stime of this process and of every stack process, from /proc. */
import { readFileSync } from 'node:fs';
import type { Result } from './result.ts';

const TICKS_PER_MS = 100 / 1000; // USER_HZ is 100 on Linux

/** utime+stime (and with `children`, the reaped children's too) of a process, in ms, from /proc. */
function procCpuMs(pid: number | 'self', children = false): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const own = Number(fields[11]) + Number(fields[12]);
    return (children ? own + Number(fields[13]) + Number(fields[14]) : own) / TICKS_PER_MS;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time (ms) of the client side and of every stack process. The client is this process (autocannon, or
 * the direct loops) plus its reaped children (each wrk run is waited for before the snapshot after it).
 */
function cpuSnapshot(pids: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = { client: procCpuMs('self', true) };
  for (const [name, pid] of Object.entries(pids)) out[name] = procCpuMs(pid);
  return out;
}

/** Runs one case of `seconds` and attaches its CPU cost per request, for this process and `pids`. */
export async function measured(
  pids: Record<string, number>,
  seconds: number,
  run: () => Promise<Result>,
): Promise<Result> {
  const before = cpuSnapshot(pids);
  const result = await run();
  const after = cpuSnapshot(pids);
  const requests = result.rps * seconds;
  result.cpu = Object.fromEntries(
    Object.keys(after).map((k) => [k, ((after[k] ?? 0) - (before[k] ?? 0)) / requests]),
  );
  return result;
}
