/**
 * Bad input: every case gets a 4xx with a JSON error body and no stack trace, none a 5xx, and the API keeps
 * serving afterwards. Injection strings are stored literally. Runs over real HTTP so header and encoding
 * cases reach the server as a client would send them; `raw` cases write bytes to a socket themselves (broken
 * framing, and slow clients that never finish a request: the request timeouts answer those with 408).
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { createPool, type Pool, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverOptions } from '../../api/app.ts';
import { loadConfig } from '../../api/config.ts';
import { MAX_HEADER_BYTES, TOKEN_MAX_LENGTH } from '../../api/schemas.ts';
import { ACKS_BY_VU, ACKS_PER_REQUEST, ackValues, insertAcks } from '../../common/ledger-sql.ts';
import { probeEmail } from '../../lib/api/sql.ts';
import { type ApiFixture, startApiFixture, uniqueEmail } from './fixture.ts';

let fx: ApiFixture;
let base: string;
let writer: Pool;

/** Short, so the slow-client cases end quickly; the defaults are 5 s and 10 s (api/config.ts). */
const HEADERS_TIMEOUT_MS = 600;
const REQUEST_TIMEOUT_MS = 1200;

beforeAll(async () => {
  fx = await startApiFixture({
    CQRS_API_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    CQRS_API_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
  });
  base = await fx.app.listen({ host: '127.0.0.1', port: 0 });
  writer = createPool({ uri: fx.config.writerUrl, connectionLimit: 1 });
});

afterAll(async () => {
  await writer?.end();
  await fx?.close();
});

interface Case {
  name: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  /** A string is sent as-is; a Buffer byte for byte. */
  body?: string | Buffer;
  /**
   * The whole request as bytes on a socket of its own (method, path, headers and body are then unused). Each
   * string is one write, `pauseMs` apart; the socket stays open until the server answers or closes it.
   */
  raw?: { writes: string[]; pauseMs?: number };
  expect?: number;
}

const json = { 'content-type': 'application/json' };
const post = (name: string, body: string | Buffer, extra: Partial<Case> = {}): Case => ({
  name,
  method: 'POST',
  path: '/users',
  headers: json,
  body,
  ...extra,
});
const email = () => uniqueEmail('bad');
const acks = (n: number) => Array.from({ length: n }, (_, seq) => ({ vu: 1, seq }));
const ackPost = (name: string, body: unknown, extra: Partial<Case> = {}): Case =>
  post(name, typeof body === 'string' ? body : JSON.stringify(body), { path: '/probe-acks', ...extra });
const ackBody = (over: Record<string, unknown>) => ({ runId: 'r1', runner: '0', acks: acks(1), ...over });

const CASES: Case[] = [
  post('malformed JSON', '{"email":'),
  post('trailing garbage', '{"email":"a@b.co","name":"x"}xyz'),
  post('empty body', ''),
  post('JSON array', '[]'),
  post('JSON null', 'null'),
  post('JSON string', '"hello"'),
  post('email wrong type', '{"email":1,"name":"x"}'),
  post('name wrong type', `{"email":"${email()}","name":["x"]}`),
  post('name null', `{"email":"${email()}","name":null}`),
  post('missing name', `{"email":"${email()}"}`),
  post('missing email', '{"name":"x"}'),
  post('unknown field', `{"email":"${email()}","name":"x","admin":true}`),
  post('prototype pollution', `{"email":"${email()}","name":"x","__proto__":{"admin":true}}`),
  post('constructor pollution', `{"email":"${email()}","name":"x","constructor":{"prototype":{"a":1}}}`),
  post('not an email', '{"email":"not-an-email","name":"x"}'),
  post('email too long', `{"email":"${'a'.repeat(250)}@b.co","name":"x"}`),
  post('name empty', `{"email":"${email()}","name":""}`),
  post('name too long', `{"email":"${email()}","name":"${'n'.repeat(201)}"}`),
  post('oversized body', `{"email":"${email()}","name":"${'n'.repeat(20_000)}"}`, { expect: 413 }),
  post('control character', `{"email":"${email()}","name":"a\\u0000b"}`),
  post('escape character', `{"email":"${email()}","name":"a\\u001b[31mred"}`),
  post('C1 control', `{"email":"${email()}","name":"a\\u0085b"}`),
  post('lone surrogate', `{"email":"${email()}","name":"a\\ud800b"}`),
  post(
    'invalid UTF-8',
    Buffer.concat([
      Buffer.from(`{"email":"${email()}","name":"a`),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]),
  ),
  post('text/plain body', 'hello', { headers: { 'content-type': 'text/plain' }, expect: 415 }),
  post('form body', 'email=a%40b.co&name=x', {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    expect: 415,
  }),
  post('gzip content-encoding', `{"email":"${email()}","name":"x"}`, {
    headers: { ...json, 'content-encoding': 'gzip' },
    expect: 415,
  }),
  post('unknown strategy on write', `{"email":"${email()}","name":"x"}`, {
    headers: { ...json, 'x-read-consistency': 'strong' },
  }),
  { name: 'non-numeric id', path: '/users/abc' },
  { name: 'zero id', path: '/users/0' },
  { name: 'negative id', path: '/users/-1' },
  { name: 'id overflow', path: '/users/99999999999999999999999' },
  { name: 'SQL in id', path: `/users/${encodeURIComponent('1 OR 1=1')}` },
  { name: 'unknown strategy header', path: '/users/1', headers: { 'x-read-consistency': 'strong' } },
  { name: 'unknown strategy query', path: '/users/1?consistency=linearizable' },
  { name: 'strategy wrong case', path: '/users/1', headers: { 'x-read-consistency': 'EVENTUAL' } },
  {
    name: 'token with SQL',
    path: '/users/1',
    headers: { 'x-read-consistency': 'gtid-wait', 'x-consistency-token': "0-1-1' OR '1'='1" },
  },
  {
    name: 'token garbage',
    path: '/users/1',
    headers: { 'x-read-consistency': 'gtid-wait', 'x-consistency-token': 'abc' },
  },
  {
    name: 'token too long',
    path: '/users/1',
    headers: { 'x-consistency-token': `0-1-1${',0-1-1'.repeat(1000)}` },
  },
  { name: 'client id with spaces', path: '/users/1', headers: { 'x-client-id': 'a b c' } },
  { name: 'unknown strategy on /get', path: '/get?consistency=strong' },
  { name: 'unknown query parameter on /get', path: '/get?debug=1' },
  { name: 'missing email query', path: '/users' },
  { name: 'bad email query', path: '/users?email=nope' },
  { name: 'unknown query parameter', path: '/users/1?debug=1' },
  { name: 'duplicated query parameter', path: '/users/1?consistency=primary&consistency=eventual' },
  { name: 'unknown route', path: '/admin' },
  { name: 'unsupported method', method: 'DELETE', path: '/users/1' },
  { name: 'header too large', path: '/users/1', headers: { 'x-padding': 'p'.repeat(20_000) }, expect: 431 },
  ackPost('acks: too many', ackBody({ acks: acks(ACKS_PER_REQUEST + 1) })),
  ackPost('acks: none', ackBody({ acks: [] })),
  ackPost('acks: missing', { runId: 'r1', runner: '0' }),
  ackPost('acks: run id with +', ackBody({ runId: 'r+1' })),
  ackPost('acks: run id too long', ackBody({ runId: 'r'.repeat(65) })),
  ackPost('acks: empty runner', ackBody({ runner: '' })),
  ackPost('acks: runner too long', ackBody({ runner: 'r'.repeat(33) })),
  ackPost('acks: negative vu', ackBody({ acks: [{ vu: -1, seq: 0 }] })),
  ackPost('acks: fractional seq', ackBody({ acks: [{ vu: 1, seq: 0.5 }] })),
  ackPost('acks: vu as a string', ackBody({ acks: [{ vu: '1', seq: 0 }] })),
  ackPost('acks: vu over INT UNSIGNED', ackBody({ acks: [{ vu: 2 ** 32, seq: 0 }] })),
  ackPost('acks: unknown ack field', ackBody({ acks: [{ vu: 1, seq: 0, at: 1 }] })),
  ackPost('acks: unknown field', ackBody({ strategy: 'eventual' })),
  ackPost('acks: body over 64 KiB', ackBody({ runId: 'r', acks: acks(1000), pad: 'p'.repeat(70_000) }), {
    expect: 413,
  }),
  { name: 'ack report: unknown endpoint', path: '/probe-acks/r1/0?endpoint=primary' },
  { name: 'ack report: no endpoint', path: '/probe-acks/r1/0' },
  { name: 'ack report: bad run id', path: '/probe-acks/r%201/0?endpoint=writer' },
  { name: 'ack report: unknown query parameter', path: '/probe-acks/r1/0?endpoint=writer&all=1' },
  // Charsets: JSON is UTF-8; anything else declared is refused rather than decoded as UTF-8 anyway.
  post('charset latin1', `{"email":"${email()}","name":"x"}`, {
    headers: { 'content-type': 'application/json; charset=latin1' },
    expect: 415,
  }),
  post('charset utf-16', `{"email":"${email()}","name":"x"}`, {
    headers: { 'content-type': 'application/json; charset=utf-16' },
    expect: 415,
  }),
  post('charset quoted iso-8859-1', `{"email":"${email()}","name":"x"}`, {
    headers: { 'content-type': 'application/json; charset="ISO-8859-1"' },
    expect: 415,
  }),
  post('charset empty', `{"email":"${email()}","name":"x"}`, {
    headers: { 'content-type': 'application/json; charset=' },
    expect: 415,
  }),
  post('UTF-16 body declared UTF-8', Buffer.from(`{"email":"${email()}","name":"x"}`, 'utf16le')),
  post(
    'overlong UTF-8',
    Buffer.concat([
      Buffer.from(`{"email":"${email()}","name":"a`),
      Buffer.from([0xc0, 0xaf]),
      Buffer.from('"}'),
    ]),
  ),
  post('JSON lookalike media type', `{"email":"${email()}","name":"x"}`, {
    headers: { 'content-type': 'application/jsonx' },
    expect: 415,
  }),
  post('no content type', `{"email":"${email()}","name":"x"}`, { headers: {}, expect: 415 }),
  post('JSON number', '42'),
  post('deeply nested JSON', `${'['.repeat(5000)}${']'.repeat(5000)}`),
  post('declared oversized body', '', {
    headers: { ...json, 'content-length': String(10 ** 9) },
    expect: 413,
  }),
  { name: 'client id too long', path: '/users/1', headers: { 'x-client-id': 'c'.repeat(129) } },
  { name: 'empty strategy header', path: '/users/1', headers: { 'x-read-consistency': '' } },
  { name: 'empty strategy query', path: '/users/1?consistency=' },
  {
    name: 'empty token',
    path: '/users/1',
    headers: { 'x-read-consistency': 'gtid-wait', 'x-consistency-token': '' },
  },
  {
    name: 'token with spaces',
    path: '/users/1',
    headers: { 'x-read-consistency': 'gtid-wait', 'x-consistency-token': '0-1-1, 0-1-2' },
  },
  {
    name: 'MySQL token with an interval ending before it starts',
    path: '/users/1',
    headers: { 'x-consistency-token': '3e11fa47-71ca-11e1-9e33-c80aa9429562:5-3' },
  },
  { name: 'id longer than any route parameter', path: `/users/${'1'.repeat(5000)}` },
  { name: 'path traversal', path: '/users/../admin' },
  { name: 'TRACE method', method: 'TRACE', path: '/users/1' },
  // Framing the HTTP parser refuses: Fastify's client-error handler answers 400 (JSON) and closes.
  { name: 'garbage request line', raw: { writes: ['HELLO\r\n\r\n'] }, expect: 400 },
  {
    name: 'two content-lengths',
    raw: {
      writes: [
        'POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
          'Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
      ],
    },
    expect: 400,
  },
  {
    name: 'content-length not a number',
    raw: { writes: ['POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n'] },
    expect: 400,
  },
  {
    name: 'chunked and content-length together',
    raw: {
      writes: [
        'POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
          'Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
      ],
    },
    expect: 400,
  },
  {
    name: 'bad chunk size',
    raw: {
      writes: [
        'POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
          'Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
      ],
    },
  },
  {
    name: 'chunked body over the limit',
    raw: {
      writes: [
        'POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
          `Transfer-Encoding: chunked\r\n\r\n4e20\r\n${'n'.repeat(20_000)}\r\n0\r\n\r\n`,
      ],
    },
    expect: 413,
  },
  // Slow clients: each holds its socket until a timeout ends the request with 408.
  {
    name: 'body declared, never sent',
    raw: {
      writes: [
        'POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{',
      ],
    },
    expect: 408,
  },
  {
    name: 'header block never finished',
    raw: { writes: ['GET /users/1 HTTP/1.1\r\nHost: x\r\nX-Slow: '] },
    expect: 408,
  },
  {
    name: 'headers dripped a byte at a time',
    raw: { writes: 'GET /users/1 HTTP/1.1\r\nHost: x\r\n'.split(''), pauseMs: 100 },
    expect: 408,
  },
  {
    name: 'body dripped slower than the request timeout',
    raw: {
      writes: [
        'POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n',
        ...'{"email":"drip@example.test","name":"x"}'.split(''),
      ],
      pauseMs: 100,
    },
    expect: 408,
  },
];

interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: string;
}

/** A complete HTTP/1.1 response in `bytes` (head and a Content-Length body), or undefined while incomplete. */
function parseResponse(bytes: Buffer): Answer | undefined {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = bytes.subarray(0, end).toString('latin1');
  const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? Number.NaN);
  const body = bytes.subarray(end + 4);
  if (!(body.length >= length)) return undefined;
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  return { status, headers: {}, body: body.subarray(0, length).toString('utf8') };
}

/**
 * Writes `raw` to a fresh socket, then waits for a complete response (or for the server to close the socket:
 * a request it gave up on). Fails if neither comes within 10 s.
 */
function sendRaw(raw: NonNullable<Case['raw']>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(base).port), '127.0.0.1');
    let received = Buffer.alloc(0);
    let timer: NodeJS.Timeout | undefined;
    const finish = (answer: Answer | Error) => {
      clearTimeout(giveUp);
      clearTimeout(timer);
      socket.destroy();
      if (answer instanceof Error) reject(answer);
      else resolve(answer);
    };
    const giveUp = setTimeout(() => finish(new Error('no answer and no close within 10 s')), 10_000);
    socket.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d]);
      const answer = parseResponse(received);
      if (answer) finish(answer);
    });
    socket.on('error', () => undefined); // a reset after the answer; 'close' follows
    socket.on('close', () => finish(parseResponse(received) ?? { status: 0, headers: {}, body: '' }));
    const writes = [...raw.writes];
    const next = () => {
      const chunk = writes.shift();
      if (chunk === undefined || socket.destroyed) return;
      socket.write(chunk);
      timer = setTimeout(next, raw.pauseMs ?? 0);
    };
    socket.on('connect', next);
  });
}

function send(c: Case): Promise<Answer> {
  if (c.raw) return sendRaw(c.raw);
  return new Promise((resolve, reject) => {
    const body = c.body === undefined ? undefined : Buffer.isBuffer(c.body) ? c.body : Buffer.from(c.body);
    const req = httpRequest(
      `${base}${c.path ?? '/users'}`,
      {
        method: c.method ?? 'GET',
        // A fresh connection per case: after a 431 the server closes the socket, which a kept-alive one hides.
        agent: false,
        headers: { ...(body ? { 'content-length': String(body.length) } : {}), ...c.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

/**
 * Every method and path the app serves, as `GET /users/:id`, from Fastify's route tree (printRoutes). HEAD,
 * which Fastify adds beside each GET, is left out.
 */
function servedRoutes(): string[] {
  const routes: string[] = [];
  const parents: string[] = [];
  for (const line of fx.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    parents.length = (m[1] ?? '').length / 4;
    parents.push(m[2] ?? '');
    for (const method of m[3]?.split(', ') ?? []) {
      if (method !== 'HEAD') routes.push(`${method} ${parents.join('')}`);
    }
  }
  return routes.sort();
}

/** The served route a case is aimed at; none for raw bytes (refused by the parser) and unknown routes. */
function routeOf(c: Case, served: readonly string[]): string | undefined {
  if (c.raw) return undefined;
  const target = `${c.method ?? 'GET'} ${(c.path ?? '/users').split('?')[0]}`;
  return served.find((r) => new RegExp(`^${r.replace(/:[^/]+/g, '[^/]+')}$`).test(target));
}

/** The routes that take no input at all: nothing to refuse. */
const NO_INPUT = ['GET /healthz', 'GET /metrics', 'GET /readyz'];

describe('bad input', () => {
  it('aims distinct cases at every route that takes input, and each route answers a well-formed request', async () => {
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
    expect(CASES.length).toBeGreaterThanOrEqual(30);
    const served = servedRoutes();
    const aimed = new Set(CASES.flatMap((c) => routeOf(c, served) ?? []));
    expect(served.filter((r) => !aimed.has(r))).toEqual(NO_INPUT);

    // So the cases' 4xx come from what is wrong with them: the same routes take a well-formed request.
    const address = uniqueEmail('ok');
    const created = await send(post('well-formed user', JSON.stringify({ email: address, name: 'ok' })));
    expect(created.status, created.body).toBe(201);
    const { id } = JSON.parse(created.body) as { id: number };
    const runId = `ok-${Date.now()}`;
    const controls: [string, Case, number][] = [
      ['GET /users/:id', { name: 'by id', path: `/users/${id}?consistency=primary` }, 200],
      [
        'GET /users',
        { name: 'by email', path: `/users?email=${encodeURIComponent(address)}&consistency=primary` },
        200,
      ],
      ['GET /get', { name: 'compat', path: '/get?consistency=primary' }, 200],
      ['POST /probe-acks', ackPost('acks', ackBody({ runId })), 204],
      [
        'GET /probe-acks/:runId/:runner',
        { name: 'ack report', path: `/probe-acks/${runId}/0?endpoint=writer` },
        200,
      ],
      ...NO_INPUT.map((r): [string, Case, number] => [r, { name: r, path: r.split(' ')[1] }, 200]),
    ];
    expect(['POST /users', ...controls.map(([r]) => r)].sort()).toEqual(served);
    for (const [route, c, status] of controls) {
      const res = await send(c);
      expect(res.status, `${route}: ${res.body}`).toBe(status);
    }
  });

  it.each(CASES)('$name → 4xx with a JSON error', async (c) => {
    const res = await send(c);
    expect(res.status, res.body).toBeGreaterThanOrEqual(400);
    expect(res.status, res.body).toBeLessThan(500);
    if (c.expect) expect(res.status).toBe(c.expect);
    const parsed = JSON.parse(res.body) as { statusCode: number; message: string };
    expect(parsed.statusCode).toBe(res.status);
    expect(typeof parsed.message).toBe('string');
    expect(res.body).not.toMatch(/\bat .*\.(ts|js):\d+|"stack"/);
  });

  it('bounds every request by default: headers 5 s, the whole request 10 s, checked at least every second', () => {
    const opts = serverOptions(loadConfig({}));
    // Fastify's own default, 0, would turn off Node's bound: a body declared and never sent held a socket forever.
    expect(opts.requestTimeout).toBe(10_000);
    expect(opts.http).toMatchObject({ headersTimeout: 5000, requestTimeout: 10_000 });
    expect(opts.http?.connectionsCheckingInterval).toBeLessThanOrEqual(1000);
  });

  it('still serves after all of it at once, and none of it wrote a user', async () => {
    // Every case again, together: run alone, this test still has all of it to survive.
    const answers = await Promise.all(CASES.map(async (c) => [c.name, (await send(c)).status] as const));
    expect(answers.filter(([, status]) => !(status >= 400 && status < 500))).toEqual([]);
    const res = await send({ name: 'health', path: '/healthz' });
    expect(res.status).toBe(200);
    // The pools too: a write and its read back.
    const address = uniqueEmail('after');
    const created = await send(post('after', JSON.stringify({ email: address, name: 'after' })));
    expect(created.status, created.body).toBe(201);
    const { id } = JSON.parse(created.body) as { id: number };
    const read = await send({
      name: 'read back',
      path: `/users/${id}`,
      headers: { 'x-read-consistency': 'primary' },
    });
    expect(read.status, read.body).toBe(200);
    expect(JSON.parse(read.body)).toMatchObject({ id, email: address });
    const rows = await writer.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM users WHERE email LIKE ?', [
      'bad-%',
    ]);
    expect(Number(rows[0][0]?.n)).toBe(0);
  });
});

describe('well-formed but hostile values', () => {
  it.each([
    ["Robert'); DROP TABLE users;--", `o'brien+${Date.now()}@example.test`],
    ['1 OR 1=1; SELECT SLEEP(10)', uniqueEmail('sleep')],
    ['\\x27 \\" \\\\ %_ `backtick`', uniqueEmail('escapes')],
    ['Zoë 😀 日本語', uniqueEmail('unicode')],
  ])('stores %j literally', async (name, address) => {
    const created = await send(post('hostile', JSON.stringify({ email: address, name })));
    expect(created.status, created.body).toBe(201);
    const { id } = JSON.parse(created.body) as { id: number };
    const [rows] = await writer.execute<RowDataPacket[]>('SELECT email, name FROM users WHERE id = ?', [id]);
    expect(rows[0]).toEqual({ email: address, name });
    const read = await send({
      name: 'read',
      path: `/users/${id}`,
      headers: { 'x-read-consistency': 'primary' },
    });
    expect(JSON.parse(read.body)).toMatchObject({ email: address, name });
  });

  it('a duplicate email is a 409', async () => {
    const address = uniqueEmail('dup');
    expect((await send(post('first', JSON.stringify({ email: address, name: 'a' })))).status).toBe(201);
    const second = await send(post('second', JSON.stringify({ email: address, name: 'b' })));
    expect(second.status).toBe(409);
    expect(JSON.parse(second.body).error).toBe('Conflict');
  });

  it('a strategy these servers cannot serve is a 400 that says why, by its name or its alias', async () => {
    for (const strategy of ['sync-before', 'gr-before']) {
      const res = await send({
        name: strategy,
        path: '/users/1',
        headers: { 'x-read-consistency': strategy },
      });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body).message).toBe(
        'strategy sync-before needs a synchronous cluster (MariaDB Galera or MySQL Group Replication); these servers are an async MariaDB replica (CQRS_TOPOLOGY=async)',
      );
    }
  });

  it('router-split on MariaDB is a 400 for its reads and its writes, and writes nothing', async () => {
    const strategy = { 'x-read-consistency': 'router-split' };
    const read = await send({ name: 'router read', path: '/users/1', headers: strategy });
    expect(read.status).toBe(400);
    expect(JSON.parse(read.body).message).toMatch(/^strategy router-split needs MySQL Router \(MySQL only\)/);
    const address = uniqueEmail('router');
    const write = await send(
      post('router write', JSON.stringify({ email: address, name: 'r' }), {
        headers: { ...json, ...strategy },
      }),
    );
    expect(write.status).toBe(400);
    expect(JSON.parse(write.body).message).toMatch(/MySQL Router/);
    const [rows] = await writer.execute<RowDataPacket[]>('SELECT id FROM users WHERE email = ?', [address]);
    expect(rows).toEqual([]);
  });
});

describe('k6 API probe rows', () => {
  const ack = (k: { runId: string; runner: string; vu: number; seq: number }) =>
    writer.execute(insertAcks(1), ackValues([k]));

  it('probe emails pass the API schema and reconciliation finds them per VU, run and runner', async () => {
    const scope = { runId: `api_raw-${Date.now()}`, runner: '0' };
    const keys = [
      { ...scope, vu: 3, seq: 0 },
      { ...scope, vu: 3, seq: 1 },
      { ...scope, vu: 12, seq: 0 },
      // A run id that only matches with `_` as a wildcard is another run: never counted in this one.
      { ...scope, runId: scope.runId.replace('_', 'X'), vu: 3, seq: 2 },
    ];
    for (const key of keys) {
      const res = await send(post('probe', JSON.stringify({ email: probeEmail(key), name: 'probe' })));
      expect(res.status, res.body).toBe(201);
      await ack(key);
    }
    // An acknowledgement whose user is absent: the one reconciliation must report missing.
    await ack({ ...scope, vu: 3, seq: 9 });
    const [rows] = await writer.execute<RowDataPacket[]>(ACKS_BY_VU.users, [scope.runId, scope.runner]);
    const counts = Object.fromEntries(
      rows.map((r) => [Number(r.vu), { acked: Number(r.acked), missing: Number(r.missing) }]),
    );
    expect(counts).toEqual({ 3: { acked: 3, missing: 1 }, 12: { acked: 1, missing: 0 } });
  });
});

describe('long consistency tokens (MySQL gtid_executed of a long-lived cluster)', () => {
  const uuid = (i: number) => `3e11fa47-71ca-11e1-9e33-${i.toString(16).padStart(12, '0')}`;
  /** A gtid_executed-like set of `n` uuid_sets, some tagged, about 50 characters each. */
  const gtidSet = (n: number) =>
    Array.from({ length: n }, (_, i) => `${uuid(i)}:1-${i + 1}${i % 3 ? '' : `:tag_${i}:1-2`}`).join(',');
  const read = (headers: Record<string, string>) =>
    send({ name: 'long token', path: '/users/1', headers: { 'x-read-consistency': 'primary', ...headers } });

  it('takes a tagged set longer than the old 4096 limit, up to TOKEN_MAX_LENGTH', async () => {
    let token = gtidSet(1500);
    token = token.slice(0, token.lastIndexOf(',', TOKEN_MAX_LENGTH));
    expect(token.length).toBeGreaterThan(60_000);
    const res = await read({ 'x-consistency-token': token });
    expect([200, 404], res.body).toContain(res.status);
  });

  it('refuses a token over TOKEN_MAX_LENGTH with a 400', async () => {
    const token = gtidSet(1600);
    expect(token.length).toBeGreaterThan(TOKEN_MAX_LENGTH);
    const res = await read({ 'x-consistency-token': token });
    expect(res.status, res.body).toBe(400);
    expect(JSON.parse(res.body).message).toMatch(/x-consistency-token/);
  });

  it('keeps the other headers to 16 KiB beside a long token: 431 with JSON', async () => {
    const res = await read({ 'x-consistency-token': gtidSet(100), 'x-padding': 'p'.repeat(20_000) });
    expect(res.status).toBe(431);
    expect(JSON.parse(res.body).statusCode).toBe(431);
  });

  it('answers a header block over the parser limit with a 431 JSON, not a reset socket', async () => {
    const res = await read({ 'x-consistency-token': 'p'.repeat(MAX_HEADER_BYTES + 1) });
    expect(res.status).toBe(431);
    expect(JSON.parse(res.body).statusCode).toBe(431);
  });
});
