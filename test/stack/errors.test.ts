import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { STACK_DEFAULT_PORTS } from '../../common/stack-defaults.ts';
import { which } from '../../stack/binaries.ts';
import { readRegistry } from '../../stack/processes.ts';
import { processesMentioning } from '../helpers/processes.ts';
import { freePorts, portEnv } from '../kit/stack.ts';

const root = resolve(import.meta.dirname, '../..');
const dirs: string[] = [];

/** `npm run stack:<command> -- <args>`, the path users take (npm prints its banner on stdout only). */
async function cli([command, ...args]: string[], env: Record<string, string> = {}) {
  const stateDir = mkdtempSync(join(tmpdir(), 'cqrs-err-'));
  dirs.push(stateDir);
  const res = await execa('npm', ['run', `stack:${command}`, '--', ...args], {
    cwd: root,
    reject: false,
    env: { ...portEnv(await freePorts()), CQRS_STACK_DIR: stateDir, CQRS_STACK_API: '0', ...env },
  });
  return { ...res, stateDir };
}

/** A clear error is one line on stderr, exit 1, no stack trace, and no process left behind. */
function expectCleanFailure(res: Awaited<ReturnType<typeof cli>>, message: RegExp) {
  expect(res.exitCode).toBe(1);
  expect(res.stderr.trim().split('\n')).toHaveLength(1);
  expect(res.stderr).toMatch(message);
  expect(res.stderr).not.toMatch(/\n\s+at /);
  expect(processesMentioning(res.stateDir)).toEqual([]);
  expect(Object.keys(readRegistry(res.stateDir))).toEqual([]);
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('bad config fails with one clear line and starts nothing', () => {
  it('a port already in use', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', ok));
    const port = (blocker.address() as { port: number }).port;
    try {
      const res = await cli(['up'], { CQRS_STACK_PORT_PROMETHEUS: String(port) });
      expectCleanFailure(
        res,
        new RegExp(`port ${port} \\(prometheus\\) is already in use.*CQRS_STACK_PORT_PROMETHEUS`),
      );
    } finally {
      blocker.close();
    }
  });

  it('an invalid port value', async () => {
    const res = await cli(['up'], { CQRS_STACK_PORT_REDIS: 'eighty' });
    expectCleanFailure(
      res,
      /invalid CQRS_STACK_PORT_REDIS; reason: expected a port 1024-65535, got "eighty"/,
    );
  });

  it('two services on one port', async () => {
    const res = await cli(['up'], { CQRS_STACK_PORT_REDIS: '40001', CQRS_STACK_PORT_API: '40001' });
    expectCleanFailure(
      res,
      /invalid CQRS_STACK_PORT_API; reason: expected a port no other service has \(CQRS_STACK_PORT_REDIS is 40001 too\), got "40001"/,
    );
  });

  it('an unknown lag value', async () => {
    for (const value of ['bogus', '50', '-5ms', '10m']) {
      const res = await cli(['lag', value]);
      expectCleanFailure(res, new RegExp(`invalid lag "${value}"`));
    }
  });

  it('a missing binary names the Debian package', async () => {
    // PATH with node only: no mariadbd, so nothing can start.
    const nodeDir = dirname(process.execPath);
    expect(which('mariadbd', nodeDir)).toBeUndefined();
    const res = await cli(['up'], { PATH: nodeDir });
    expectCleanFailure(res, /mariadbd not found on PATH; install it with: apt-get install mariadb-server/);
  });

  it('a service that dies during start-up stops everything this run started', async () => {
    // Every real binary, except an exporter that exits at once: the databases are up by the time it fails.
    const bin = mkdtempSync(join(tmpdir(), 'cqrs-bin-'));
    dirs.push(bin);
    for (const name of [
      'mariadbd',
      'mariadb-install-db',
      'prometheus',
      'promtool',
      'redis-server',
      'my_print_defaults',
      'resolveip',
    ]) {
      const real = which(name);
      if (real) symlinkSync(real, join(bin, name));
    }
    const fake = join(bin, 'prometheus-mysqld-exporter');
    writeFileSync(fake, '#!/bin/sh\necho "exporter: simulated crash" >&2\nexit 1\n');
    chmodSync(fake, 0o755);
    const res = await cli(['up'], { PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin` });
    expectCleanFailure(
      res,
      /exporter-(primary|replica) exited during start-up \(exporter: simulated crash\)/,
    );
    expect(res.stdout).toMatch(/stopping the \d+ service\(s\) this run started/);
  });
});

it('the default ports avoid 3306', () => {
  expect(Object.values(STACK_DEFAULT_PORTS)).not.toContain(3306);
});
