import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../api/config.ts';
import { poolSettings } from '../../api/pools.ts';
import { ConfigError } from '../../common/config-error.ts';
import { mysqlUrl, toEnv } from '../../common/endpoints.ts';
import { STACK_DEFAULT_PORTS } from '../../common/stack-defaults.ts';
import { credentialCases, leakedWindows } from '../k6/credential-table.ts';

describe('api config', () => {
  it('defaults to the local stack', () => {
    const c = loadConfig({});
    expect(c.host).toBe('127.0.0.1');
    expect(c.port).toBe(STACK_DEFAULT_PORTS.api);
    expect(c.writerUrl).toContain(`:${STACK_DEFAULT_PORTS.primary}/cqrs`);
    expect(c.readerUrl).toContain(`:${STACK_DEFAULT_PORTS.replica}/cqrs`);
    expect(c.redisUrl).toBe(`redis://127.0.0.1:${STACK_DEFAULT_PORTS.redis}`);
    expect(c.defaultStrategy).toBe('eventual');
    expect(c.routerSplitUrl).toBeUndefined();
    expect(c.topology).toBe('async');
  });

  it('reads the names the stack exports', () => {
    const db = { host: '127.0.0.1', port: 40001, user: 'w', password: 'p@ss', database: 'cqrs' };
    const env = toEnv({
      flavor: 'mysql',
      topology: 'cluster',
      writer: db,
      reader: { ...db, port: 40002 },
      replicaMonitor: { ...db, port: 40002 },
      primaryAdminSocket: '',
      replicaAdminSocket: '',
      redisUrl: 'redis://127.0.0.1:40003',
      apiUrl: 'http://127.0.0.1:40004',
      prometheusUrl: '',
      remoteWriteUrl: '',
      grafanaUrl: '',
      delayProxyControlUrl: '',
    });
    const c = loadConfig({ ...env, CQRS_API_PORT: '40004', CQRS_API_DEFAULT_STRATEGY: 'gtid-wait' });
    expect(c.flavor).toBe('mysql');
    expect(c.topology).toBe('cluster');
    expect(c.writerUrl).toBe(mysqlUrl(db));
    expect(c.readerUrl).toBe(mysqlUrl({ ...db, port: 40002 }));
    expect(c.redisUrl).toBe('redis://127.0.0.1:40003');
    expect(c.port).toBe(40004);
    expect(c.defaultStrategy).toBe('gtid-wait');
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ CQRS_API_PORT: '' }).port).toBe(STACK_DEFAULT_PORTS.api);
  });

  it.each([
    ['CQRS_API_PORT', 'abc'],
    ['CQRS_API_PORT', '70000'],
    ['CQRS_API_READER_POOL', '0'],
    ['CQRS_API_DEFAULT_STRATEGY', 'strong'],
    ['CQRS_WRITER_URL', 'http://127.0.0.1:1/cqrs'],
    ['CQRS_REDIS_URL', 'not a url'],
    ['CQRS_FLAVOR', 'postgres'],
    ['CQRS_TOPOLOGY', 'galera'],
    ['CQRS_API_DEFAULT_STRATEGY', 'GR-BEFORE'],
    ['CQRS_API_GTID_WAIT_TIMEOUT_MS', '-5'],
  ])('rejects %s=%s with a one-line error naming it', (key, value) => {
    const attempt = () => loadConfig({ [key]: value });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toMatch(new RegExp(`^invalid ${key}; reason: `));
      expect(message).not.toContain('\n');
    }
  });

  it('says what it expected and what it got, in the one shape of both runtimes', () => {
    expect(() => loadConfig({ CQRS_API_PORT: '70000' })).toThrow(
      new ConfigError('invalid CQRS_API_PORT; reason: expected an integer in 0..65535, got "70000"'),
    );
    expect(() => loadConfig({ CQRS_API_DEFAULT_STRATEGY: 'strong' })).toThrow(
      /^invalid CQRS_API_DEFAULT_STRATEGY; reason: expected one of eventual\|primary\|.*, got "strong"$/,
    );
  });

  it('reads the alias gr-before as sync-before in CQRS_API_DEFAULT_STRATEGY', () => {
    const cluster = { CQRS_TOPOLOGY: 'cluster' };
    expect(loadConfig({ ...cluster, CQRS_API_DEFAULT_STRATEGY: 'gr-before' }).defaultStrategy).toBe(
      'sync-before',
    );
    expect(loadConfig({ ...cluster, CQRS_API_DEFAULT_STRATEGY: 'sync-before' }).defaultStrategy).toBe(
      'sync-before',
    );
    expect(
      loadConfig({ CQRS_FLAVOR: 'mysql', ...cluster, CQRS_API_DEFAULT_STRATEGY: 'gr-before' })
        .defaultStrategy,
    ).toBe('sync-before');
  });

  it('refuses at boot, in one line, a default strategy the servers cannot serve', () => {
    expect(() => loadConfig({ CQRS_API_DEFAULT_STRATEGY: 'gr-before' })).toThrow(
      new ConfigError(
        'invalid CQRS_API_DEFAULT_STRATEGY; reason: strategy sync-before needs a synchronous cluster (MariaDB Galera or MySQL Group Replication); these servers are an async MariaDB replica (CQRS_TOPOLOGY=async)',
      ),
    );
    expect(() => loadConfig({ CQRS_TOPOLOGY: 'cluster', CQRS_API_DEFAULT_STRATEGY: 'gtid-wait' })).toThrow(
      /^invalid CQRS_API_DEFAULT_STRATEGY; reason: strategy gtid-wait needs [^\n]*gtid_slave_pos[^\n]*; these servers are a MariaDB Galera cluster \(CQRS_FLAVOR=mariadb, CQRS_TOPOLOGY=cluster\)$/,
    );
    expect(() => loadConfig({ CQRS_API_DEFAULT_STRATEGY: 'router-split' })).toThrow(
      /^invalid CQRS_API_DEFAULT_STRATEGY; reason: strategy router-split needs MySQL Router \(MySQL only\)/,
    );
    // MySQL serves router-split (its URL is a per-request 400, not a boot error) and gtid-wait on either topology.
    expect(
      loadConfig({ CQRS_FLAVOR: 'mysql', CQRS_API_DEFAULT_STRATEGY: 'router-split' }).defaultStrategy,
    ).toBe('router-split');
    expect(
      loadConfig({ CQRS_FLAVOR: 'mysql', CQRS_TOPOLOGY: 'cluster', CQRS_API_DEFAULT_STRATEGY: 'gtid-wait' })
        .defaultStrategy,
    ).toBe('gtid-wait');
  });

  it.each([
    ['mariadb', 'async', null, undefined],
    ['mysql', 'async', null, undefined],
    ['mariadb', 'cluster', 'reader', ['SET SESSION wsrep_sync_wait = 1']],
    ['mysql', 'cluster', 'reader', ["SET SESSION group_replication_consistency = 'BEFORE'"]],
  ] as const)('%s %s: the syncBefore pool opens on %s with its session SQL', (flavor, topology, on, sql) => {
    const config = loadConfig({ CQRS_FLAVOR: flavor, CQRS_TOPOLOGY: topology, CQRS_API_READER_POOL: '7' });
    const s = poolSettings(config).syncBefore;
    expect(s.url).toBe(on === null ? null : config.readerUrl);
    expect(s.size).toBe(7);
    if (sql) expect(s.sessionSql).toEqual(sql);
    // The reader pool itself never gets it.
    expect(poolSettings(config).reader.sessionSql).toBeUndefined();
  });

  it('reads only its own variables: a bad one of another consumer does not stop it', () => {
    expect(loadConfig({ CQRS_BENCH_SECONDS: 'lots', CQRS_STACK_PORT_REDIS: 'eighty' }).port).toBe(
      STACK_DEFAULT_PORTS.api,
    );
  });

  it('does not echo database passwords in errors', () => {
    expect(() => loadConfig({ CQRS_READER_URL: 'postgres://u:topsecret@h:1/db' })).toThrow(
      /^(?!.*topsecret)/,
    );
    // A Go DSN where a URL belongs: it is not a URL, so it is refused, and its password stays hidden.
    expect(() => loadConfig({ CQRS_WRITER_URL: 'writer:GoDsnPw@tcp(127.0.0.1:23306)/cqrs' })).toThrow(
      'invalid CQRS_WRITER_URL; reason: expected a mysql://user:pass@host:port/db URL, got "writer:***@tcp(127.0.0.1:23306)/cqrs"',
    );
  });

  it('prints no part of a password for any hostile connection string (the table of test/k6/redact.test.ts)', () => {
    const leaks: string[] = [];
    for (const c of credentialCases()) {
      for (const key of ['CQRS_WRITER_URL', 'CQRS_READER_URL', 'CQRS_ROUTER_SPLIT_URL', 'CQRS_REDIS_URL']) {
        try {
          loadConfig({ [key]: c.value });
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError);
          const message = (err as Error).message;
          expect(message).not.toContain('\n');
          if (leakedWindows(message, c).length > 0) leaks.push(`${key} ${c.label}: ${message}`);
        }
      }
    }
    expect(leaks).toEqual([]);
  });
});
