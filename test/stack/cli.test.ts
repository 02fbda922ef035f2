/**
 * The shipped commands end to end: `npm run stack:*` as users type them, through the bundle launcher
 * (build/node-cli.mjs), on a stack of its own (temp state folder, free ports, the API included).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { loadStackConfig, stackDown } from '../../stack/index.ts';
import { isRunning, readRegistry } from '../../stack/processes.ts';
import type { StackStatus } from '../../stack/status.ts';
import { processesMentioning } from '../helpers/processes.ts';
import { freePorts, portEnv } from '../kit/stack.ts';

const root = resolve(import.meta.dirname, '../..');
const stateDir = join(mkdtempSync(join(tmpdir(), 'cqrs-cli-')), 'state');
const ports = await freePorts();
const env = { ...portEnv(ports), CQRS_STACK_DIR: stateDir };

function npmRun(script: string, ...args: string[]) {
  return execa('npm', ['run', '--silent', script, '--', ...args], { cwd: root, reject: false, env });
}

afterAll(async () => {
  // Whatever a failed assertion left running, stopped by PID.
  await stackDown(loadStackConfig(env), { purge: true });
  rmSync(resolve(stateDir, '..'), { recursive: true, force: true });
});

describe('npm run stack:*', () => {
  it('up refuses an unknown --topology in one line, before anything starts', async () => {
    for (const [args, message] of [
      [
        ['--topology', 'galera'],
        'stack: invalid CQRS_STACK_TOPOLOGY; reason: expected one of async|cluster, got "galera"',
      ],
      [['--topology='], 'stack: --topology takes a value: one of async|cluster'],
    ] as const) {
      const up = await npmRun('stack:up', ...args);
      expect(up.exitCode).toBe(1);
      expect(up.stderr.trim().split('\n')).toEqual([message]);
    }
    expect(readRegistry(stateDir)).toEqual({});
  });

  it('up starts every service, the Node ones from their bundle rather than through tsx', async () => {
    const up = await npmRun('stack:up');
    expect(up.exitCode, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/stack: up in \d+ ms/);
    expect(up.stdout).toContain(`writer: writer@127.0.0.1:${ports.primary}`);
    const registry = readRegistry(stateDir);
    for (const name of ['api', 'delay-proxy'] as const) {
      const rec = registry[name];
      expect(isRunning(rec), name).toBe(true);
      const argv = readFileSync(`/proc/${rec?.pid}/cmdline`, 'utf8').split('\0');
      expect(argv).toContain(join(root, 'build', 'node-cli.mjs'));
      expect(argv.join(' ')).not.toMatch(/tsx/);
    }
  });

  it('status says healthy, in text and in JSON', async () => {
    const text = await npmRun('stack:status');
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^✓ api\s+pid \d+$/m);
    expect(text.stdout).toMatch(/replication: io=Yes sql=Yes/);
    expect(text.stdout.trim().split('\n').at(-1)).toBe('stack: healthy');
    const json = await npmRun('stack:status', '--json');
    expect(json.exitCode, json.stderr).toBe(0);
    const status = JSON.parse(json.stdout) as StackStatus;
    expect(status.healthy).toBe(true);
    expect(status.services.every((s) => s.running)).toBe(true);
  });

  it('lag sets the proxy delay that status then reports, and a bad value is one line, exit 1', async () => {
    const set = await npmRun('stack:lag', '20ms');
    expect(set.exitCode, set.stderr).toBe(0);
    expect(set.stdout.trim()).toBe('replication delay set to 20 ms (delay proxy)');
    expect((await npmRun('stack:status')).stdout).toMatch(/proxy_delay=20ms/);
    expect((await npmRun('stack:lag', '0')).exitCode).toBe(0);
    const bad = await npmRun('stack:lag', 'soon');
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^stack: invalid lag "soon"/)]);
  });

  it('down --purge stops everything by PID and deletes the state folder', async () => {
    const registry = readRegistry(stateDir);
    const down = await npmRun('stack:down', '--purge');
    expect(down.exitCode, down.stderr).toBe(0);
    expect(down.stdout).toMatch(/stack: stopped api, /);
    for (const rec of Object.values(registry)) expect(isRunning(rec)).toBe(false);
    expect(processesMentioning(stateDir)).toEqual([]);
    expect(existsSync(stateDir)).toBe(false);
  });

  it('an unknown command prints the usage and exits 2', async () => {
    const res = await execa('node', [join(root, 'build', 'node-cli.mjs'), 'stack/cli.ts', 'restart'], {
      cwd: root,
      reject: false,
      env,
    });
    expect(res.exitCode).toBe(2);
    expect(res.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^usage: stack\/cli\.ts up \[--topology async\|cluster\] \| down/),
    ]);
  });
});
