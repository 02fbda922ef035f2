/**
 * The ledger through the API (what lets the API scenarios run on a stock k6): POST /probe-acks writes a batch
 * of acknowledgements in one statement, idempotently; GET /probe-acks/:runId/:runner reconciles them per VU on
 * the writer or the reader, an anti-join with users by the probe email, so an acknowledgement without its user
 * is missing. Against the real stack; bad input is a 4xx with a JSON error.
 */
import { createPool, type Pool, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACKS_PER_REQUEST } from '../../common/ledger-sql.ts';
import { probeEmail } from '../../lib/api/sql.ts';
import type { ProbeKey } from '../../lib/store.ts';
import { type ApiFixture, startApiFixture } from './fixture.ts';

let fx: ApiFixture;
let writer: Pool;

beforeAll(async () => {
  fx = await startApiFixture();
  writer = createPool({ uri: fx.config.writerUrl, connectionLimit: 1 });
});

afterAll(async () => {
  await writer?.end();
  await fx?.close();
});

const runId = `acks-${process.pid}-${Date.now().toString(36)}`;

interface VuReport {
  vu: number;
  acked: number;
  missing: number;
}

const postAcks = (payload: unknown) =>
  fx.app.inject({ method: 'POST', url: '/probe-acks', payload: payload as object });

async function report(runner: string, endpoint: string): Promise<VuReport[]> {
  const res = await fx.app.inject({
    method: 'GET',
    url: `/probe-acks/${runId}/${runner}?endpoint=${endpoint}`,
  });
  expect(res.statusCode, res.body).toBe(200);
  const body = res.json() as { endpoint: string; vus: VuReport[] };
  expect(body.endpoint).toBe(endpoint);
  return body.vus;
}

async function createProbeUser(key: ProbeKey): Promise<void> {
  const res = await fx.app.inject({
    method: 'POST',
    url: '/users',
    payload: { email: probeEmail(key), name: 'probe' },
  });
  expect(res.statusCode, res.body).toBe(201);
}

const ledgerRows = async (runner: string) => {
  const [rows] = await writer.execute<RowDataPacket[]>(
    'SELECT vu, seq FROM probe_acks WHERE run_id = ? AND runner = ? ORDER BY vu, seq',
    [runId, runner],
  );
  return rows.map((r) => [Number(r.vu), Number(r.seq)]);
};

/** Retries until `probe` returns a value; bounded so a replica that never catches up fails the test. */
async function until<T>(probe: () => Promise<T | null>, boundMs = 10_000): Promise<T> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error('not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('POST /probe-acks', () => {
  it('writes a batch of several acknowledgements: 204, one ledger row each', async () => {
    const acks = [
      { vu: 1, seq: 0 },
      { vu: 1, seq: 1 },
      { vu: 2, seq: 0 },
      { vu: 7, seq: 2 ** 40 },
    ];
    const res = await postAcks({ runId, runner: 'batch', acks });
    expect(res.statusCode, res.body).toBe(204);
    expect(res.body).toBe('');
    expect(await ledgerRows('batch')).toEqual(acks.map((a) => [a.vu, a.seq]));
  });

  it('is idempotent: a re-posted batch (overlapping, with duplicates inside) changes nothing twice', async () => {
    const first = [
      { vu: 3, seq: 0 },
      { vu: 3, seq: 1 },
    ];
    expect((await postAcks({ runId, runner: 'retry', acks: first })).statusCode).toBe(204);
    const again = [...first, { vu: 3, seq: 1 }, { vu: 3, seq: 2 }];
    expect((await postAcks({ runId, runner: 'retry', acks: again })).statusCode).toBe(204);
    expect(await ledgerRows('retry')).toEqual([
      [3, 0],
      [3, 1],
      [3, 2],
    ]);
  });

  it(`takes ${ACKS_PER_REQUEST} acknowledgements with the widest numbers (over the users' body limit)`, async () => {
    const acks = Array.from({ length: ACKS_PER_REQUEST }, (_, i) => ({
      vu: 2 ** 32 - 1,
      seq: Number.MAX_SAFE_INTEGER - i,
    }));
    const payload = JSON.stringify({ runId: 'r'.repeat(64), runner: 'w'.repeat(32), acks });
    expect(payload.length).toBeGreaterThan(fx.config.bodyLimitBytes);
    const res = await fx.app.inject({
      method: 'POST',
      url: '/probe-acks',
      headers: { 'content-type': 'application/json' },
      payload,
    });
    expect(res.statusCode, res.body).toBe(204);
  });

  it.each([
    [
      'too many acks',
      {
        runId,
        runner: 'x',
        acks: Array.from({ length: ACKS_PER_REQUEST + 1 }, (_, seq) => ({ vu: 1, seq })),
      },
    ],
    ['no acks', { runId, runner: 'x', acks: [] }],
    ['a run id with +', { runId: 'run+1', runner: 'x', acks: [{ vu: 1, seq: 0 }] }],
    ['a run id too long', { runId: 'r'.repeat(65), runner: 'x', acks: [{ vu: 1, seq: 0 }] }],
    ['a negative vu', { runId, runner: 'x', acks: [{ vu: -1, seq: 0 }] }],
    ['a fractional seq', { runId, runner: 'x', acks: [{ vu: 1, seq: 1.5 }] }],
    ['an unknown field', { runId, runner: 'x', acks: [{ vu: 1, seq: 0 }], endpoint: 'writer' }],
  ])('refuses %s with a 400 JSON error, writing nothing', async (_, payload) => {
    const res = await postAcks(payload);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(await ledgerRows('x')).toEqual([]);
  });
});

describe('GET /probe-acks/:runId/:runner', () => {
  it('counts an acknowledgement whose user does not exist as missing, per VU, on the writer and the reader', async () => {
    const runner = 'recon';
    const key = (vu: number, seq: number): ProbeKey => ({ runId, runner, vu, seq });
    // VU 4: two acknowledged users and one acknowledgement whose user was never written; VU 9: one, present.
    // An unacknowledged user (VU 4, seq 5) cannot hide the missing one.
    for (const k of [key(4, 0), key(4, 1), key(4, 5), key(9, 0)]) await createProbeUser(k);
    const acks = [key(4, 0), key(4, 1), key(4, 2), key(9, 0)].map(({ vu, seq }) => ({ vu, seq }));
    expect((await postAcks({ runId, runner, acks })).statusCode).toBe(204);

    const expected = [
      { vu: 4, acked: 3, missing: 1 },
      { vu: 9, acked: 1, missing: 0 },
    ];
    expect(await report(runner, 'writer')).toEqual(expected);
    // The reader has them once replication has brought both the users and the acknowledgements.
    const onReader = await until(async () => {
      const vus = await report(runner, 'reader');
      return vus.reduce((n, v) => n + v.acked, 0) === 4 ? vus : null;
    });
    expect(onReader).toEqual(expected);
  });

  it('answers an empty list for a run it has no acknowledgements of', async () => {
    expect(await report('nobody', 'writer')).toEqual([]);
  });

  it.each([
    ['an unknown endpoint', `/probe-acks/${runId}/x?endpoint=primary`],
    ['no endpoint', `/probe-acks/${runId}/x`],
    ['a bad run id', `/probe-acks/${encodeURIComponent('run id')}/x?endpoint=writer`],
    ['a runner too long', `/probe-acks/${runId}/${'w'.repeat(33)}?endpoint=writer`],
  ])('refuses %s with a 400 JSON error', async (_, url) => {
    const res = await fx.app.inject({ method: 'GET', url });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
  });

  it('answers 503 with Retry-After when the endpoint it reads is down', async () => {
    await fx.stack.stopService('replica');
    try {
      const res = await fx.app.inject({ method: 'GET', url: `/probe-acks/${runId}/recon?endpoint=reader` });
      expect(res.statusCode, res.body).toBe(503);
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      expect((res.json() as { message: string }).message).toMatch(/reader database unavailable/);
      // The writer side still answers.
      expect(await report('recon', 'writer')).toHaveLength(2);
    } finally {
      await fx.stack.startService('replica');
    }
  });
});
