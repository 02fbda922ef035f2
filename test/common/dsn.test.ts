import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../common/config-error.ts';
import { parseGoDsn, passwordOf, redact } from '../../common/dsn.ts';
import { describeConfig, loadConfig } from '../../lib/config.ts';
import { credentialCases, leakedWindows } from '../k6/credential-table.ts';

const CASES = credentialCases();

describe('parseGoDsn follows the Go driver', () => {
  it('splits user info at the last @ before the address, and user from password at the first :', () => {
    expect(parseGoDsn('writer:Sup3r@Secr3tTail@tcp(127.0.0.1:23306)/cqrs')).toEqual({
      user: 'writer',
      password: 'Sup3r@Secr3tTail',
      host: '127.0.0.1',
      port: 23306,
      database: 'cqrs',
      params: '',
    });
    expect(parseGoDsn('a/b:p/w:x@tcp([::1]:3306)/db?interpolateParams=true')).toMatchObject({
      user: 'a/b',
      password: 'p/w:x',
      host: '[::1]',
      port: 3306,
      params: 'interpolateParams=true',
    });
    expect(parseGoDsn('r@tcp(h:1)/d')).toMatchObject({ user: 'r', password: '' });
  });

  it.each([
    ['no user', ':pw@tcp(h:1)/d'],
    ['no address', 'w:pw@/d'],
    ['unix socket', 'w:pw@unix(/tmp/s)/d'],
    ['port out of range', 'w:pw@tcp(h:65536)/d'],
    ['unescaped / in params', 'w:pw@tcp(h:1)/d?loc=Europe/Paris'],
    ['a URL', 'mysql://w:pw@h:1/d'],
    ['no slash', 'w:pw@tcp(h:1)'],
  ])('rejects %s', (_, dsn) => {
    expect(parseGoDsn(dsn)).toBeNull();
  });
});

describe('redact', () => {
  it(`never prints any 4 characters of a password (${CASES.length} hostile inputs)`, () => {
    const leaks = CASES.flatMap((c) => {
      const out = redact(c.value);
      const leaked = leakedWindows(out, c);
      return leaked.length > 0 ? [`${c.label}: ${JSON.stringify(out)} shows ${leaked.join(', ')}`] : [];
    });
    expect(leaks).toEqual([]);
  });

  it('keeps what locates the endpoint: user, address, database, parameters', () => {
    expect(redact('writer:Sup3r@Secr3tTail@tcp(127.0.0.1:23306)/cqrs?interpolateParams=true')).toBe(
      'writer:***@tcp(127.0.0.1:23306)/cqrs?interpolateParams=true',
    );
    expect(redact('u/s:pw@tcp(db:3306)/app')).toBe('u/s:***@tcp(db:3306)/app');
    expect(redact('r@tcp(db:3306)/app')).toBe('r@tcp(db:3306)/app');
    expect(redact('mysql://w:p%40ss@db:3306/app')).toBe('mysql://w:***@db:3306/app');
    expect(redact('redis://:pw@127.0.0.1:26379')).toBe('redis://:***@127.0.0.1:26379');
    expect(redact('http://127.0.0.1:28080')).toBe('http://127.0.0.1:28080');
    expect(redact('mysql://db/app?password=x1y2z3')).toBe('mysql://db/app?password=***');
    expect(redact('tcp(db:3306)/app')).toBe('tcp(db:3306)/app');
    expect(redact('reports')).toBe('reports');
  });

  it('masks a malformed value rather than guess: the user stays, the rest goes unless it is an address', () => {
    expect(redact('w:Sup3r@Secr3t@tcp(db:3306/app')).toBe('w:***@tcp(db:3306/app');
    expect(redact('w:pass@word')).toBe('w:***@***');
    expect(redact('u/s/r:Sl/ash')).toBe('u/s/r:***');
    // A URL without '@' may still be `user:password` cut short: only a numeric port may follow ':'.
    expect(redact('mysql://w:GoDsnPw')).toBe('mysql://w:***');
    expect(redact('http://[::1]:28080/x')).toBe('http://[::1]:28080/x');
    // A lone token in a URL's user info may be a password (Redis reads it so): masked whole.
    expect(redact('redis://t0ken@127.0.0.1:26379')).toBe('redis://***@127.0.0.1:26379');
  });

  it('passwordOf finds the password redact hides', () => {
    expect(passwordOf('writer:Sup3r@Secr3tTail@tcp(h:1)/d')).toBe('Sup3r@Secr3tTail');
    expect(passwordOf('redis://:pw@h:1')).toBe('pw');
    expect(passwordOf('http://h:1')).toBe('');
  });
});

describe('the k6 config prints no password', () => {
  const VARS = ['CQRS_WRITER_DSN', 'CQRS_READER_DSN', 'CQRS_REPLICA_MONITOR_DSN', 'CQRS_API_URL'];

  it('not in errors, whatever the variable and the input', () => {
    const leaks: string[] = [];
    for (const c of CASES) {
      for (const name of VARS) {
        let message = '';
        try {
          loadConfig({ [name]: c.value }, 'config');
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError);
          message = (err as Error).message;
          expect(message).not.toContain('\n');
        }
        const leaked = leakedWindows(message, c);
        if (leaked.length > 0) leaks.push(`${name} ${c.label}: ${message}`);
      }
    }
    expect(leaks).toEqual([]);
  });

  it('not in the description of a valid config', () => {
    const valid = CASES.filter((c) => parseGoDsn(c.value.trim()));
    expect(valid.length).toBeGreaterThan(100);
    for (const c of valid) {
      const lines = describeConfig(loadConfig({ CQRS_WRITER_DSN: c.value })).join('\n');
      expect(leakedWindows(lines, c), c.label).toEqual([]);
    }
  });
});
