/**
 * The k6 side of the API scenarios without k6 (lib/api/store.ts and visibility.ts are runtime-neutral): the
 * visibility headers become the probe's Sighting, acknowledgements go through the VU's batched ledger into
 * POST /probe-acks requests the API accepts, and reconciliation reads GET /probe-acks rows.
 */
import { describe, expect, it } from 'vitest';
import { ACKS_PER_REQUEST } from '../../common/ledger-sql.ts';
import { VISIBILITY_HEADERS } from '../../common/visibility.ts';
import type { AckEntry, ApiClient, ReadResult } from '../../lib/api/client.ts';
import { ApiAckSink, ApiLedger, ApiStore } from '../../lib/api/store.ts';
import { canonicalHeader, parseVisibility, VISIBILITY_RESPONSE_HEADERS } from '../../lib/api/visibility.ts';
import { AckLedger } from '../../lib/ledger.ts';
import type { ProbeKey, RunScope } from '../../lib/store.ts';

describe('visibility headers on the k6 side', () => {
  it('are read under the names k6 gives them', () => {
    expect(VISIBILITY_RESPONSE_HEADERS).toEqual({
      lagUs: 'X-Visibility-Lag-Us',
      basis: 'X-Visibility-Basis',
    });
    expect(canonicalHeader(VISIBILITY_HEADERS.lagUs)).toBe('X-Visibility-Lag-Us');
    expect(canonicalHeader('x-read-source')).toBe('X-Read-Source');
  });

  it.each([
    ['51300', 'apply-stamp', { lagUs: 51_300, basis: 'apply-stamp' }],
    ['0', 'commit', { lagUs: 0, basis: 'commit' }],
    ['812', 'read-time', { lagUs: 812, basis: 'read-time' }],
    [undefined, 'commit', undefined],
    ['5', undefined, undefined],
    ['-5', 'commit', undefined],
    ['1.5', 'cache-set', undefined],
    ['5', 'guess', undefined],
  ])('%j / %j → %o', (lag, basis, expected) => {
    expect(parseVisibility(lag, basis)).toEqual(expected);
  });
});

/** An ApiClient stand-in that records what the store sends. */
function fakeClient(read: ReadResult) {
  const posts: { scope: RunScope; acks: readonly AckEntry[] }[] = [];
  let failing = false;
  const client = {
    createUser: () => ({ id: 7, token: '0-1-7' }),
    readUser: () => read,
    writeAcks: (scope: RunScope, acks: readonly AckEntry[]) => {
      if (failing) throw new Error('503');
      posts.push({ scope, acks });
    },
    ackReport: () => [
      { vu: 1, acked: 3, missing: 1 },
      { vu: 2, acked: 1, missing: 0 },
    ],
  } as unknown as ApiClient;
  return { client, posts, fail: (on: boolean) => (failing = on) };
}

const key = (seq: number, runner = '0'): ProbeKey => ({ runId: 'r1', runner, vu: 1, seq });

describe('ApiStore', () => {
  it('reports a found row with its visibility, and a miss as unseen', () => {
    const visibility = { lagUs: 51_300, basis: 'apply-stamp' } as const;
    const hit = fakeClient({ found: true, source: 'replica', visibility });
    const ledger = new AckLedger(new ApiAckSink(() => hit.client));
    const store = new ApiStore(hit.client, 'eventual', ledger);
    const ack = store.write(key(0));
    expect(ack).toEqual({ id: 7, gtid: '0-1-7' });
    expect(store.readAfterWrite(key(0), ack)).toEqual({ seen: true, visibility });
    expect(store.poll(key(0), ack)).toEqual({ seen: true, visibility });
    const miss = fakeClient({ found: false, source: 'replica', visibility: undefined });
    expect(new ApiStore(miss.client, 'eventual', ledger).poll(key(0), ack)).toEqual({ seen: false });
  });

  it('hands every acknowledgement to the shared ledger, counted, posted a batch at a time', () => {
    const f = fakeClient({ found: true, source: 'primary', visibility: undefined });
    let acked = 0;
    let flushed = 0;
    const ledger = new AckLedger(new ApiAckSink(() => f.client), {
      maxBatch: 3,
      onRecorded: () => acked++,
      onFlushed: (n) => (flushed += n),
    });
    const eventual = new ApiStore(f.client, 'eventual', ledger);
    const primary = new ApiStore(f.client, 'primary', ledger);
    for (let seq = 0; seq < 4; seq++) (seq % 2 ? primary : eventual).recordAck(key(seq));
    expect(acked).toBe(4);
    expect(f.posts).toEqual([
      { scope: { runId: 'r1', runner: '0' }, acks: [0, 1, 2].map((seq) => ({ vu: 1, seq })) },
    ]);
    ledger.flush();
    expect(f.posts.map((p) => p.acks.length)).toEqual([3, 1]);
    expect(flushed).toBe(4);
  });
});

describe('ApiAckSink', () => {
  it('splits a backlog (grown while the API failed) into requests the API accepts, per run and runner', () => {
    const f = fakeClient({ found: true, source: 'primary', visibility: undefined });
    const ledger = new AckLedger(new ApiAckSink(() => f.client), { maxBatch: 10_000 });
    f.fail(true);
    for (let seq = 0; seq < 2 * ACKS_PER_REQUEST + 1; seq++) ledger.record(key(seq));
    ledger.record(key(0, 'other'));
    expect(() => ledger.flush()).toThrow('503');
    expect(ledger.pending).toBe(2 * ACKS_PER_REQUEST + 2);
    f.fail(false);
    ledger.flush();
    expect(f.posts.map((p) => [p.scope.runner, p.acks.length])).toEqual([
      ['0', ACKS_PER_REQUEST],
      ['0', ACKS_PER_REQUEST],
      ['0', 1],
      ['other', 1],
    ]);
    expect(ledger.pending).toBe(0);
  });
});

describe('ApiLedger', () => {
  it('turns GET /probe-acks rows into per-VU checks', () => {
    const f = fakeClient({ found: true, source: 'primary', visibility: undefined });
    const checks = new ApiLedger(() => f.client).acks('reader', { runId: 'r1', runner: '0' });
    expect([...checks]).toEqual([
      [1, { acked: 3, missing: 1 }],
      [2, { acked: 1, missing: 0 }],
    ]);
  });
});
