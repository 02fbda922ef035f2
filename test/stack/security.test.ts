/**
 * What a local user can reach on a running stack (issue 8, security): root only by the socket and only for the
 * OS user running the stack, the servers not running as root, no file writes outside an empty folder, Redis
 * behind a password, and a delay-proxy control port that cannot be made to buffer.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { Redis } from 'ioredis';
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminConnection, instanceFor } from '../../stack/mysqld.ts';
import { lookupUser } from '../../stack/os-user.ts';
import { processUid, readRegistry } from '../../stack/processes.ts';
import { redisReply } from '../../stack/services.ts';
import { startTestStack, type TestStack } from '../kit/stack.ts';
import { hugePut } from './http-put.ts';

const isRoot = process.getuid?.() === 0;
const mysqlUser = lookupUser('mysql');

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.down();
});

const roles = ['primary', 'replica'] as const;
const inst = (role: (typeof roles)[number]) =>
  instanceFor(stack.stateDir, role, role === 'primary' ? stack.cfg.ports.primary : stack.cfg.ports.replica);

/** The `mariadb` client, optionally as another OS user; exit code and output. */
async function mariadbClient(args: string[], asUser?: string) {
  const cmd = asUser ? ['runuser', '-u', asUser, '--', 'mariadb', ...args] : ['mariadb', ...args];
  const res = await execa(cmd[0] as string, cmd.slice(1), { reject: false, all: true, cwd: '/tmp' });
  return { code: res.exitCode, out: res.all ?? '' };
}

describe('MariaDB root', () => {
  it('is refused over TCP, with no password or any other', async () => {
    for (const role of roles) {
      const port = inst(role).port;
      for (const password of ['', 'invalid', 'root']) {
        await expect(
          mysql.createConnection({ host: '127.0.0.1', port, user: 'root', password }),
          `${role} root/${password || '(none)'}`,
        ).rejects.toMatchObject({ errno: expect.any(Number) });
      }
      const cli = await mariadbClient([`-h127.0.0.1`, `-P${port}`, '-uroot', '-e', 'select current_user()']);
      expect(cli.code, cli.out).not.toBe(0);
      expect(cli.out).toMatch(/Access denied|not allowed to connect/);
    }
  });

  it.runIf(isRoot)('cannot be had by another OS user, over TCP or the socket', async () => {
    for (const role of roles) {
      const i = inst(role);
      const tcp = await mariadbClient(
        [`-h127.0.0.1`, `-P${i.port}`, '-uroot', '-e', 'select current_user()'],
        'nobody',
      );
      expect(tcp.code, tcp.out).not.toBe(0);
      expect(tcp.out).not.toMatch(/root@/);
      for (const user of ['root', 'nobody', 'mysql']) {
        const sock = await mariadbClient(
          [`-S${i.socket}`, `-u${user}`, '-e', 'select current_user()'],
          'nobody',
        );
        expect(sock.code, `${role} socket as ${user}: ${sock.out}`).not.toBe(0);
      }
    }
  });

  it('is the admin over the socket, authenticated by unix_socket, and the only root account', async () => {
    for (const role of roles) {
      const conn = await adminConnection(inst(role));
      try {
        const [me] = await conn.query<RowDataPacket[]>('SELECT CURRENT_USER() AS me');
        expect(me[0]?.me).toBe(`${isRoot ? 'root' : (process.env.USER ?? '')}@localhost`);
        const [roots] = await conn.query<RowDataPacket[]>(
          "SELECT Host AS host FROM mysql.user WHERE User = 'root' OR User = ''",
        );
        expect(roots.map((r) => r.host)).toEqual(['localhost']);
        const [create] = await conn.query<RowDataPacket[]>("SHOW CREATE USER 'root'@'localhost'");
        expect(String(Object.values(create[0] ?? {})[0])).toMatch(/unix_socket/);
      } finally {
        await conn.end();
      }
    }
  });

  it('cannot write or read files outside the empty secure_file_priv folder', async () => {
    const target = join('/tmp', `cqrs-outfile-${process.pid}-${Date.now()}.txt`);
    for (const role of roles) {
      const conn = await adminConnection(inst(role));
      try {
        await expect(conn.query(`SELECT 'x' INTO OUTFILE '${target}'`)).rejects.toMatchObject({
          errno: 1290,
        });
        const [read] = await conn.query<RowDataPacket[]>("SELECT LOAD_FILE('/etc/passwd') AS f");
        expect(read[0]?.f).toBeNull();
        const [priv] = await conn.query<RowDataPacket[]>('SELECT @@secure_file_priv AS d');
        expect(String(priv[0]?.d)).toBe(`${inst(role).filesDir}/`);
      } finally {
        await conn.end();
      }
      expect(existsSync(target)).toBe(false);
    }
  });
});

describe('the database servers as OS processes', () => {
  it.runIf(isRoot && mysqlUser)('run as the OS user mysql, not root, in folders only it can enter', () => {
    const registry = readRegistry(stack.stateDir);
    for (const role of roles) {
      const pid = registry[role]?.pid as number;
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      expect(/^Uid:\s+(\d+)/m.exec(status)?.[1], `${role} /proc/${pid}/status`).toBe(String(mysqlUser?.uid));
      expect(processUid(pid)).not.toBe(0);
      const dir = statSync(inst(role).dir);
      expect(dir.uid).toBe(mysqlUser?.uid);
      expect(dir.mode & 0o777).toBe(0o700);
      expect(statSync(inst(role).datadir).uid).toBe(mysqlUser?.uid);
    }
    // Traversable for mysql, not listable by anyone else.
    expect(statSync(stack.stateDir).mode & 0o777).toBe(0o711);
  });

  it('keep every credential file of the state folder 0600', () => {
    for (const file of [
      'stack.env',
      'stack.json',
      'secrets.json',
      'redis/redis.conf',
      'exporter-primary/my.cnf',
    ]) {
      expect(statSync(join(stack.stateDir, file)).mode & 0o777, file).toBe(0o600);
    }
  });
});

describe('Redis', () => {
  it('refuses every command without the password (NOAUTH), and the stack hands the password to clients', async () => {
    const { hostname: host, port } = new URL(stack.endpoints.redisUrl);
    for (const command of ['PING', 'GET anything', 'CONFIG GET dir', 'FLUSHALL']) {
      expect(await redisReply(host, Number(port), command), command).toMatch(/^-NOAUTH/);
    }
    // The API's client library without the password: refused the same way.
    const anonymous = new Redis({ host, port: Number(port), lazyConnect: true, maxRetriesPerRequest: 0 });
    const errors: string[] = [];
    anonymous.on('error', (err: Error) => errors.push(err.message));
    try {
      await expect(anonymous.connect().then(() => anonymous.ping())).rejects.toThrow();
      expect(errors.join(' ')).toMatch(/NOAUTH/);
    } finally {
      anonymous.disconnect();
    }
    const client = new Redis(stack.endpoints.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await client.connect();
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
    const password = new URL(stack.endpoints.redisUrl).password;
    expect(password.length).toBeGreaterThanOrEqual(24);
    expect(readFileSync(join(stack.stateDir, 'stack.env'), 'utf8')).toContain(
      `CQRS_REDIS_URL='redis://:${password}@`,
    );
    // Never on a command line, which every local user can read.
    const pid = readRegistry(stack.stateDir).redis?.pid as number;
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain(password);
  });
});

describe('the delay proxy control port (a separate process)', () => {
  const rssKb = (pid: number) =>
    Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

  it('refuses 64 KiB and 64 MB bodies with 413 at once, without growing', async () => {
    const url = `${stack.endpoints.delayProxyControlUrl}/delay`;
    const pid = readRegistry(stack.stateDir)['delay-proxy']?.pid as number;
    const before = rssKb(pid);
    for (const [size, declare] of [
      [64 * 1024, true],
      [64 * 1024 * 1024, true],
      [64 * 1024 * 1024, false],
    ] as const) {
      const res = await hugePut(url, size, declare);
      expect(res.status, `${size} B, declared=${declare}`).toBe(413);
      expect(res.ms).toBeLessThan(1000);
    }
    const grownKb = rssKb(pid) - before;
    console.log(`delay proxy RSS ${before} kB → ${before + grownKb} kB after 64 KiB + 2 × 64 MB PUTs`);
    expect(grownKb).toBeLessThan(4 * 1024);
    // Still serving.
    expect(await (await fetch(url)).json()).toEqual({ delayMs: 0 });
  });

  it('answers a body that is not JSON with 400 and a reason', async () => {
    const res = await fetch(`${stack.endpoints.delayProxyControlUrl}/delay`, { method: 'PUT', body: 'fast' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'body must be JSON like {"delayMs": 50}' });
  });
});
