/**
 * Which OS user the database servers run as (stack/os-user.ts), and the fall-back to root, with one warning
 * line, when the user `mysql` is missing or cannot reach the state folder.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadStackConfig, stackDown, stackUp } from '../../stack/index.ts';
import { lookupUser, serverUser, untraversable } from '../../stack/os-user.ts';
import { processUid, readRegistry } from '../../stack/processes.ts';
import { freePorts } from '../kit/stack.ts';

const ROOT = { name: 'root', uid: 0, gid: 0 };
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'cqrs-user-'));
  dirs.push(d);
  return d;
};

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('serverUser', () => {
  it('is the invoking user when not root, with no my.cnf user', () => {
    const me = { name: 'alice', uid: 1000, gid: 1000 };
    expect(serverUser('/tmp/x/state', 'mysql', me)).toEqual({ user: me });
  });

  it.runIf(lookupUser('mysql'))('is mysql for root when mysql can reach the state folder', () => {
    // A test stack's folder: made by mkdtemp under /tmp; the stack opens it to 0711 itself.
    expect(serverUser(tempDir(), 'mysql', ROOT)).toEqual({ user: lookupUser('mysql'), cnfUser: 'mysql' });
  });

  it('falls back to root with one warning line when the user does not exist', () => {
    const got = serverUser('/tmp/x/state', 'no-such-user-cqrs', ROOT);
    expect(got).toMatchObject({ user: ROOT, cnfUser: 'root' });
    expect(got.warning).toMatch(
      /^warning: no OS user "no-such-user-cqrs", so the database servers run as root/,
    );
    expect(got.warning).not.toContain('\n');
  });

  it.runIf(lookupUser('mysql'))('falls back to root, naming the folder, when mysql cannot reach it', () => {
    const closed = tempDir(); // mkdtemp: 0700, root's
    const got = serverUser(join(closed, 'inner', 'state'), 'mysql', ROOT);
    expect(got.user).toEqual(ROOT);
    expect(got.warning).toContain(`cannot reach ${closed}`);
  });

  it('untraversable finds the first folder a user may not pass', () => {
    const base = tempDir();
    const inner = join(base, 'a', 'b');
    mkdirSync(inner, { recursive: true });
    chmodSync(base, 0o711);
    chmodSync(join(base, 'a'), 0o700);
    const other = { name: 'other', uid: 54321, gid: 54321 };
    expect(untraversable(inner, other)).toBe(join(base, 'a'));
    chmodSync(join(base, 'a'), 0o711);
    expect(untraversable(inner, other)).toBeUndefined();
  });
});

describe.runIf(process.getuid?.() === 0)('stack:up as root without a usable OS user mysql', () => {
  it('runs the servers as root, as before, and says so in one line', async () => {
    const cfg = loadStackConfig(
      {},
      { stateDir: tempDir(), ports: await freePorts(), withApi: false, serverOsUser: 'no-such-user-cqrs' },
    );
    const lines: string[] = [];
    try {
      await stackUp(cfg, (line) => lines.push(line));
      expect(lines.filter((l) => l.startsWith('warning:'))).toEqual([
        expect.stringMatching(/^warning: no OS user "no-such-user-cqrs"/),
      ]);
      const registry = readRegistry(cfg.stateDir);
      for (const role of ['primary', 'replica']) expect(processUid(registry[role]?.pid as number)).toBe(0);
    } finally {
      await stackDown(cfg, { purge: true });
    }
  });
});
