/**
 * A committed write is never reported as failed: the writer connection is killed for real (KILL CONNECTION
 * from the primary's admin socket) between the INSERT and the follow-up select of the row and its GTID.
 */
import { type Connection, createConnection, createPool, type Pool, type RowDataPacket } from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cacheKeys } from '../../api/users/sql.ts';
import { createUserHooks } from '../../api/write/create-user.ts';
import { type ApiFixture, startApiFixture, uniqueEmail } from './fixture.ts';

let fx: ApiFixture;
let admin: Connection;
let writer: Pool;

beforeAll(async () => {
  fx = await startApiFixture();
  admin = await createConnection({ socketPath: fx.stack.endpoints.primaryAdminSocket, user: 'root' });
  writer = createPool({ uri: fx.config.writerUrl, connectionLimit: 1 });
});

afterEach(() => {
  createUserHooks.afterInsert = null;
});

afterAll(async () => {
  createUserHooks.afterInsert = null;
  await admin?.end();
  await writer?.end();
  await fx?.close();
});

const post = (email: string, headers: Record<string, string> = {}) =>
  fx.app.inject({ method: 'POST', url: '/users', headers, payload: { email, name: 'committed' } });

describe('POST /users when the connection dies after the commit', () => {
  it('answers 201 without a token instead of a retryable 503, and the row exists', async () => {
    let killed = 0;
    createUserHooks.afterInsert = async (conn) => {
      await admin.query(`KILL CONNECTION ${Number(conn.threadId)}`);
      killed += 1;
    };
    const email = uniqueEmail('committed');
    const res = await post(email, { 'x-client-id': 'committed-1' });
    expect(killed).toBe(1);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers['retry-after']).toBeUndefined();
    expect(res.headers['x-consistency-token']).toBeUndefined();
    const user = res.json() as { id: number; email: string; name: string; created_at?: string };
    expect(user).toMatchObject({ email, name: 'committed' });
    expect(user.id).toBeGreaterThan(0);
    // The fallback read on a fresh connection still finds the row's created_at.
    expect(user.created_at).toMatch(/^\d{4}-\d\d-\d\dT/);

    const [rows] = await writer.execute<RowDataPacket[]>('SELECT id FROM users WHERE email = ?', [email]);
    expect(rows.map((r) => Number(r.id))).toEqual([user.id]);

    // The API keeps working on the pool afterwards (the dead connection was not handed back).
    createUserHooks.afterInsert = null;
    const next = await post(uniqueEmail('after-kill'));
    expect(next.statusCode).toBe(201);
    expect(next.headers['x-consistency-token']).toMatch(/^\d+-\d+-\d+$/);

    // Without a token gtid-wait reads the replica as for any client without one; primary finds the row.
    const read = await fx.app.inject({
      method: 'GET',
      url: `/users/${user.id}`,
      headers: { 'x-read-consistency': 'primary' },
    });
    expect(read.statusCode).toBe(200);

    // A retry of the same POST is a 409: the write exists.
    const retried = await post(email);
    expect(retried.statusCode).toBe(409);
  });

  it('answers 201 without created_at when the row cannot be read back in time either', async () => {
    const db = new URL(fx.config.writerUrl).pathname.slice(1);
    createUserHooks.afterInsert = async (conn) => {
      await admin.query(`KILL CONNECTION ${Number(conn.threadId)}`);
      // The fallback read then blocks on the table lock until READ_BACK_TIMEOUT_MS gives up on it.
      await admin.query(`LOCK TABLES \`${db}\`.users WRITE`);
    };
    const email = uniqueEmail('no-readback');
    try {
      const res = await post(email);
      expect(res.statusCode, res.body).toBe(201);
      expect(res.headers['retry-after']).toBeUndefined();
      expect(res.headers['x-consistency-token']).toBeUndefined();
      const user = res.json() as Record<string, unknown>;
      expect(user).toMatchObject({ email, name: 'committed' });
      expect(user.id).toEqual(expect.any(Number));
      expect(user).not.toHaveProperty('created_at');
    } finally {
      await admin.query('UNLOCK TABLES');
    }
    const [rows] = await writer.execute<RowDataPacket[]>('SELECT id FROM users WHERE email = ?', [email]);
    expect(rows).toHaveLength(1);
    // Not written through without created_at (a cached user must satisfy the read schema); a cache read
    // fills the key from the replica instead.
    expect(await fx.app.redis.get(cacheKeys.byEmail(email))).toBeNull();
  });
});
