/**
 * Long-running servers are started detached (they outlive the CLI) with their output in <state>/logs, and are
 * recorded by PID in <state>/pids.json. A PID is only trusted while /proc shows the same process: same boot,
 * same start time, same binary. So a recycled PID (after a reboot, say, the system's own mariadbd) is never
 * reused or signalled.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProcessRecord {
  pid: number;
  /** Basename of the executable, checked against /proc/<pid>/cmdline before any signal. */
  exe: string;
  startedAt: string;
  /** Kernel start time of the process (clock ticks since boot, /proc/<pid>/stat field 22) and the boot it ran in. */
  procStart: string;
  bootId: string;
}

export type Registry = Record<string, ProcessRecord>;

const registryFile = (stateDir: string) => join(stateDir, 'pids.json');

export function readRegistry(stateDir: string): Registry {
  const file = registryFile(stateDir);
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Registry;
  } catch {
    return {};
  }
}

export function writeRegistry(stateDir: string, registry: Registry): void {
  writeFileSync(registryFile(stateDir), `${JSON.stringify(registry, null, 2)}\n`);
}

export function updateRegistry(stateDir: string, change: (r: Registry) => void): void {
  const r = readRegistry(stateDir);
  change(r);
  writeRegistry(stateDir, r);
}

const bootId = (): string => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

/** State and start time from /proc/<pid>/stat (fields after the parenthesised command name). */
function procStat(pid: number): { state: string; start: string } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
  return { state: fields[0] ?? '', start: fields[19] ?? '' };
}

/** True while the PID exists, is not a zombie, and is still the very process that was recorded. */
export function isRunning(rec: ProcessRecord | undefined): rec is ProcessRecord {
  if (!rec) return false;
  try {
    const { state, start } = procStat(rec.pid);
    if (state === 'Z' || state === 'X') return false;
    if (start !== rec.procStart || bootId() !== rec.bootId) return false;
    const cmdline = readFileSync(`/proc/${rec.pid}/cmdline`, 'utf8');
    // Empty for a moment while the process execs (a `#!/usr/bin/env node` script execs twice) or is exiting:
    // 46 of 300 such spawns showed it at some read here. Same process, same start time, so running; one that
    // really exited is a zombie or gone at the next check. Read as "exited", it failed a start that had not
    // begun (the stand-in Grafana test, now and then, with no output yet to show).
    if (cmdline === '') return true;
    const argv = cmdline.split('\0');
    // Some servers rewrite their title (redis-server shows "/usr/bin/redis-server 127.0.0.1:6379").
    return argv.some((a) => basename(a.split(' ')[0] ?? '') === rec.exe || a.endsWith(rec.exe));
  } catch {
    return false;
  }
}

/** The real uid a process runs as (/proc/<pid>/status), or undefined once it is gone. */
export function processUid(pid: number): number | undefined {
  try {
    const line = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return line ? Number(line[1]) : undefined;
  } catch {
    return undefined;
  }
}

export interface DaemonSpec {
  name: string;
  command: string;
  args: string[];
  stateDir: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** What to look for in /proc/<pid>/cmdline; defaults to the command's basename. */
  exe?: string;
}

export function logFile(stateDir: string, name: string): string {
  return join(stateDir, 'logs', `${name}.log`);
}

/** Starts a detached server and records its PID. Its stdout/stderr append to <state>/logs/<name>.log. */
export function startDaemon(spec: DaemonSpec): ProcessRecord {
  // Logs may hold what a service printed about its clients: for the stack's user only.
  mkdirSync(join(spec.stateDir, 'logs'), { recursive: true, mode: 0o700 });
  const out = openSync(logFile(spec.stateDir, spec.name), 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      detached: true,
      stdio: ['ignore', out, out],
      env: spec.env ?? process.env,
      cwd: spec.cwd,
    });
    if (child.pid === undefined) throw new Error(`could not start ${spec.command}`);
    child.unref();
    const rec: ProcessRecord = {
      pid: child.pid,
      exe: spec.exe ?? basename(spec.command),
      startedAt: new Date().toISOString(),
      procStart: procStat(child.pid).start,
      bootId: bootId(),
    };
    updateRegistry(spec.stateDir, (r) => {
      r[spec.name] = rec;
    });
    return rec;
  } finally {
    closeSync(out);
  }
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL. Resolves once the process is gone. */
export async function stopProcess(rec: ProcessRecord, graceMs = 10_000): Promise<void> {
  if (!isRunning(rec)) return;
  try {
    process.kill(rec.pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isRunning(rec)) {
    if (Date.now() > deadline) {
      try {
        process.kill(rec.pid, 'SIGKILL');
      } catch {
        return;
      }
      // Its helpers too (a Galera node's state-transfer script and rsync daemon): a detached daemon leads its
      // own process group, and a SIGKILL leaves them no chance to be stopped by it.
      try {
        process.kill(-rec.pid, 'SIGKILL');
      } catch {
        // no group left
      }
    }
    await sleep(10);
  }
}

/** The last lines of a service's log, to explain why it did not come up. */
export function logTail(stateDir: string, name: string, lines = 3): string {
  return fileTail(logFile(stateDir, name), lines);
}

export function fileTail(path: string, lines = 3): string {
  try {
    const text = readFileSync(path, 'utf8').trim().split('\n');
    return text
      .slice(-lines)
      .map((l) => l.trim())
      .join(' | ');
  } catch {
    return '';
  }
}
