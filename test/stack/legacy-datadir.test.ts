/**
 * A state folder from an earlier version (datadirs initialised with `--auth-root-authentication-method=normal`
 * as OS root: root@localhost, root@127.0.0.1, root@::1, root@<host> without a password, files root's) is
 * migrated by stack:up: the files go to the OS user mysql, the extra roots are dropped, root@localhost moves to
 * unix_socket, and the data stays.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { which } from '../../stack/binaries.ts';
import { stackDown, stackUp } from '../../stack/index.ts';
import { lookupUser } from '../../stack/os-user.ts';
import { processUid, readRegistry } from '../../stack/processes.ts';
import { testStackConfig } from '../kit/stack.ts';

const isRoot = process.getuid?.() === 0;
const mysqlUser = lookupUser('mysql');
const cfg = await testStackConfig();
const roles = ['primary', 'replica'] as const;
const port = (role: (typeof roles)[number]) => (role === 'primary' ? cfg.ports.primary : cfg.ports.replica);

/** The datadir exactly as the earlier stack/mysqld.ts made it (its my.cnf, its install-db arguments). */
async function legacyInstance(role: (typeof roles)[number], serverId: number): Promise<void> {
  const dir = join(cfg.stateDir, role);
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const cnf = join(dir, 'my.cnf');
  writeFileSync(
    cnf,
    `${[
      '[mysqld]',
      `datadir=${join(dir, 'data')}`,
      `tmpdir=${join(dir, 'tmp')}`,
      `socket=${join(dir, 'mysqld.sock')}`,
      `pid-file=${join(dir, 'mysqld.pid')}`,
      `log-error=${join(dir, 'error.log')}`,
      `port=${port(role)}`,
      'bind-address=127.0.0.1',
      'skip-name-resolve',
      `server-id=${serverId}`,
      'log-bin=binlog',
      'binlog_format=ROW',
      'relay-log=relay-bin',
      ...(isRoot ? ['user=root'] : []),
    ].join('\n')}\n`,
  );
  const res = await execa(
    which('mariadb-install-db') as string,
    [`--defaults-file=${cnf}`, '--auth-root-authentication-method=normal', '--skip-test-db'],
    { reject: false, all: true },
  );
  expect(res.exitCode, res.all).toBe(0);
}

const lines: string[] = [];

beforeAll(async () => {
  await legacyInstance('primary', 1);
  await legacyInstance('replica', 2);
  await stackUp(cfg, (line) => lines.push(line));
});

afterAll(async () => {
  await stackDown(cfg, { purge: true });
});

describe.runIf(which('mariadb-install-db'))('a datadir from an earlier version', () => {
  it('is migrated by stack:up, and says so, one line per change', () => {
    for (const role of roles) {
      expect(lines).toContainEqual(
        expect.stringMatching(new RegExp(`^  ~ ${role}: dropped .*'root'@'127\\.0\\.0\\.1'`)),
      );
      expect(lines).toContain(`  ~ ${role}: 'root'@'localhost' now authenticates by unix_socket only`);
      if (isRoot && mysqlUser) {
        expect(lines).toContain(`  ~ ${role}: datadir handed to OS user mysql (it was another user's)`);
      }
    }
  });

  it('refuses root over TCP afterwards, as a fresh stack does', async () => {
    for (const role of roles) {
      await expect(
        mysql.createConnection({ host: '127.0.0.1', port: port(role), user: 'root', password: '' }),
      ).rejects.toMatchObject({ errno: 1045 });
    }
  });

  it.runIf(isRoot && mysqlUser)('runs the servers as mysql, on files now owned by mysql', () => {
    const registry = readRegistry(cfg.stateDir);
    for (const role of roles) {
      expect(processUid(registry[role]?.pid as number)).toBe(mysqlUser?.uid);
      expect(statSync(join(cfg.stateDir, role, 'data', 'mysql')).uid).toBe(mysqlUser?.uid);
    }
  });

  it('still replicates writes, and a second stack:up has nothing left to migrate', async () => {
    const again: string[] = [];
    const up = await stackUp(cfg, (line) => again.push(line));
    expect(again.filter((l) => l.startsWith('  ~') || l.startsWith('warning'))).toEqual([]);
    const writer = await mysql.createConnection({ ...up.endpoints.writer });
    const reader = await mysql.createConnection({ ...up.endpoints.reader });
    try {
      const tag = `legacy-${process.pid}`;
      await writer.execute(
        "INSERT INTO probe_rows (tag, run_id, runner, vu, iter) VALUES (?, 'legacy', '0', 0, 0)",
        [tag],
      );
      const deadline = Date.now() + 5000;
      let seen = 0;
      while (seen === 0 && Date.now() < deadline) {
        const [rows] = await reader.query<RowDataPacket[]>('SELECT id FROM probe_rows WHERE tag = ?', [tag]);
        seen = rows.length;
      }
      expect(seen).toBe(1);
    } finally {
      await Promise.all([writer.end(), reader.end()]);
    }
  });
});
