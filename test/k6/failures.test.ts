import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../common/config-error.ts';
import { classifyError, FailureLog, reasonOf } from '../../lib/k6/failures.ts';
import { InitFailure, loadOrFail } from '../../lib/k6/init-error.ts';

/** lib/api/client.ts's ApiCallError (that module imports k6/http): an Error that names its kind. */
const apiCallError = (message: string, kind = 'api-status') =>
  Object.assign(new Error(message), { name: 'ApiCallError', kind });

/** k6 hands a Go error to JS as an Error named GoError whose message is the Go error's text. */
function goError(message: string): Error {
  const e = new Error(message);
  e.name = 'GoError';
  return e;
}

describe('error classification', () => {
  // Messages as the real k6 v2.2.0 + xk6-sql + MySQL driver and k6/http gave them.
  const cases: [unknown, string][] = [
    [
      goError("Error 1045 (28000): Access denied for user 'writer'@'127.0.0.1' (using password: YES)"),
      'db-auth',
    ],
    [goError("Error 1044 (42000): Access denied for user 'writer'@'%' to database 'nope'"), 'db-auth'],
    [
      goError("Error 1062 (23000): Duplicate entry 'e2e-1:0:1:0' for key 'uq_probe_rows_tag'"),
      'db-duplicate',
    ],
    [
      goError('Error 1290 (HY000): The MariaDB server is running with the --read-only option'),
      'db-read-only',
    ],
    [goError("Error 1146 (42S02): Table 'cqrs.probe_rows' doesn't exist"), 'db-error'],
    [goError('dial tcp 127.0.0.1:1: connect: connection refused'), 'db-unreachable'],
    [goError('context deadline exceeded'), 'db-unreachable'],
    [goError('invalid connection'), 'db-unreachable'],
    [goError('driver: bad connection'), 'db-unreachable'],
    [goError('Error 1927 (70100): Connection was killed'), 'db-unreachable'],
    [
      goError('Post "http://127.0.0.1:1/users": dial tcp 127.0.0.1:1: connect: connection refused'),
      'api-unreachable',
    ],
    [apiCallError('POST /users (eventual) got no answer: EOF', 'api-unreachable'), 'api-unreachable'],
    [apiCallError('POST /users (eventual) answered 503: {"error":"x"}'), 'api-status'],
    [new TypeError("Cannot read properties of undefined (reading 'id')"), 'script'],
    ['a thrown string', 'script'],
  ];
  it.each(cases)('%s → %s', (err, kind) => {
    expect(classifyError(err).kind).toBe(kind);
  });

  it('gives one line: no GoError prefix, no stack, bounded, passwords redacted', () => {
    const e = goError('dial tcp 10.0.0.1:3306: i/o timeout');
    e.stack = `${e.message}\n    at query (file:///lib/k6/db.ts:35:22)`;
    expect(reasonOf(e)).toBe('dial tcp 10.0.0.1:3306: i/o timeout');
    expect(reasonOf(goError('x\ny\nz'))).toBe('x');
    expect(reasonOf(goError('a'.repeat(1000)))).toHaveLength(300);
    const leaky = reasonOf(goError('open writer:Sup3r@Secr3t@tcp(127.0.0.1:3306)/cqrs failed'));
    expect(leaky).not.toMatch(/Sup3r|Secr3t/);
    expect(leaky).toContain('writer:***@tcp(127.0.0.1:3306)/cqrs');
    expect(reasonOf(goError('Get "http://u:hunter2@h/readyz": EOF'))).not.toContain('hunter2');
    // A MySQL error's user@host has no password in it and stays as the server said it.
    expect(reasonOf(goError("Access denied for user 'writer'@'127.0.0.1'"))).toBe(
      "Access denied for user 'writer'@'127.0.0.1'",
    );
  });
});

describe('the rate-limited failure log', () => {
  function setup(perKind = 2, periodMs = 10_000) {
    let now = 0;
    const lines: string[] = [];
    const log = new FailureLog({
      perKind,
      periodMs,
      now: () => now,
      log: (l) => lines.push(l),
      label: () => 'vu 3',
    });
    return { log, lines, advance: (ms: number) => (now += ms) };
  }
  const refused = {
    kind: 'db-unreachable',
    reason: 'dial tcp 127.0.0.1:1: connect: connection refused',
  } as const;

  it('logs the first few of each kind with their reason, the last of them saying what happens next', () => {
    const { log, lines } = setup();
    for (let i = 0; i < 5; i++) log.report(refused);
    log.report({ kind: 'api-status', reason: 'POST /users answered 503' });
    expect(lines).toEqual([
      'iteration error [db-unreachable] (vu 3): dial tcp 127.0.0.1:1: connect: connection refused',
      'iteration error [db-unreachable] (vu 3): dial tcp 127.0.0.1:1: connect: connection refused; more db-unreachable errors are counted in iteration_errors and summed every 10 s',
      'iteration error [api-status] (vu 3): POST /users answered 503',
    ]);
  });

  it('then one line per period saying how many more of each kind, and the rest at the end', () => {
    const { log, lines, advance } = setup(1, 10_000);
    // 300/s for 25 s, as against a killed API: 7500 errors.
    for (let i = 0; i < 7500; i++) {
      log.report(refused);
      log.tick();
      advance(1000 / 300);
    }
    log.flush();
    expect(lines[0]).toMatch(/^iteration error \[db-unreachable\] \(vu 3\)/);
    const periodic = lines.slice(1);
    expect(periodic).toHaveLength(3);
    expect(periodic[0]).toMatch(/^iteration errors not logged \(vu 3, last 10 s\): db-unreachable 300\d$/);
    const sum = periodic.reduce((n, l) => n + Number(/db-unreachable (\d+)$/.exec(l)?.[1]), 0);
    expect(sum).toBe(7499);
    // Nothing pending: nothing more to say.
    log.flush();
    expect(lines).toHaveLength(4);
  });

  it('says nothing per period while nothing went unlogged', () => {
    const { log, lines, advance } = setup();
    log.report(refused);
    advance(60_000);
    log.tick();
    log.flush();
    expect(lines).toHaveLength(1);
  });
});

describe('config errors in init code', () => {
  it('leave as a value k6 prints without a stack: not an Error, String() is the message', () => {
    let thrown: unknown;
    try {
      loadOrFail(() => {
        throw new ConfigError('invalid CQRS_RATE; reason: expected an integer in 1..100000, got "lots"');
      });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(InitFailure);
    expect(thrown).not.toBeInstanceOf(Error);
    expect(String(thrown)).toBe('invalid CQRS_RATE; reason: expected an integer in 1..100000, got "lots"');
    expect((thrown as InitFailure).name).toBe('ConfigError');
  });

  it('let any other error through as it was', () => {
    const bug = new TypeError('bug');
    expect(() =>
      loadOrFail(() => {
        throw bug;
      }),
    ).toThrow(bug);
    expect(loadOrFail(() => 42)).toBe(42);
  });
});
