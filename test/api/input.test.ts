/**
 * Bad input: every case gets a 4xx with a JSON error body and no stack trace, none a 5xx, and the API keeps
 * serving afterwards. Injection strings are stored literally. Runs over real HTTP so header and encoding
 * cases reach the server as a client would send them.
 */
import { request as httpRequest } from 'node:http';
import { createPool, type Pool, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ACKS_PER_POST, MAX_HEADER_BYTES, TOKEN_MAX_LENGTH } from '../../api/schemas.ts';
import { ACKS_BY_VU, ackValues, insertAcks } from '../../common/ledger-sql.ts';
import { probeEmail } from '../../lib/api/sql.ts';
import { type ApiFixture, startApiFixture, uniqueEmail } from './fixture.ts';

let fx: ApiFixture;
let base: string;
let writer: Pool;

beforeAll(async () => {
  fx = await startApiFixture();
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
  { name: 'missing email query', path: '/users' },
  { name: 'bad email query', path: '/users?email=nope' },
  { name: 'unknown query parameter', path: '/users/1?debug=1' },
  { name: 'duplicated query parameter', path: '/users/1?consistency=primary&consistency=eventual' },
  { name: 'unknown route', path: '/admin' },
  { name: 'unsupported method', method: 'DELETE', path: '/users/1' },
  { name: 'header too large', path: '/users/1', headers: { 'x-padding': 'p'.repeat(20_000) }, expect: 431 },
  ackPost('acks: too many', ackBody({ acks: acks(MAX_ACKS_PER_POST + 1) })),
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
];

function send(c: Case): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const body = c.body === undefined ? undefined : Buffer.isBuffer(c.body) ? c.body : Buffer.from(c.body);
    const req = httpRequest(
      `${base}${c.path ?? '/users'}`,
      {
        method: c.method ?? 'GET',
        // A fresh connection per case: after a 431 the server closes the socket, which a kept-alive one hides.
        agent: false,
        headers: { ...c.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
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

describe('bad input', () => {
  it('has at least 30 distinct cases', () => {
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
    expect(CASES.length).toBeGreaterThanOrEqual(30);
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

  it('still serves after all of it', async () => {
    const res = await send({ name: 'health', path: '/healthz' });
    expect(res.status).toBe(200);
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

  it('an unavailable strategy is a 400 that says why', async () => {
    const res = await send({ name: 'gr', path: '/users/1', headers: { 'x-read-consistency': 'gr-before' } });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).message).toMatch(/MySQL Group Replication/);
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
