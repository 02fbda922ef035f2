import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isRunning, readRegistry, startDaemon, stopProcess } from '../../stack/processes.ts';

const stateDir = mkdtempSync(join(tmpdir(), 'cqrs-proc-'));

afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

describe('process records', () => {
  it('trust a PID only while it is the very process that was started', async () => {
    const rec = startDaemon({ name: 'sleeper', command: 'sleep', args: ['30'], stateDir });
    expect(readRegistry(stateDir).sleeper).toEqual(rec);
    expect(isRunning(rec)).toBe(true);
    // The same binary name under another PID (a recycled PID, or the system's own server) is not ours. Start
    // times tick at 10 ms: let one pass so the two cannot share one.
    await new Promise((r) => setTimeout(r, 30));
    const impostor = startDaemon({ name: 'other', command: 'sleep', args: ['30'], stateDir });
    expect(isRunning({ ...rec, pid: impostor.pid })).toBe(false);
    // Nor is a record from another boot.
    expect(isRunning({ ...rec, bootId: 'another-boot' })).toBe(false);
    await stopProcess(rec);
    await stopProcess(impostor);
    expect(isRunning(rec)).toBe(false);
    expect(isRunning(impostor)).toBe(false);
  });

  it('never signals a process that is not the recorded one', async () => {
    const victim = startDaemon({ name: 'victim', command: 'sleep', args: ['30'], stateDir });
    const staleRecord = { ...victim, procStart: '1' };
    await stopProcess(staleRecord);
    expect(isRunning(victim)).toBe(true);
    await stopProcess(victim);
    expect(isRunning(victim)).toBe(false);
  });
});
