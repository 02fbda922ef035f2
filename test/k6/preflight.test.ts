import { describe, expect, it } from 'vitest';
import {
  abortReason,
  apiHoldings,
  failureLine,
  reusedIdReason,
  reuseSeqBase,
  runEndpointChecks,
  sqlHoldings,
} from '../../lib/k6/preflight.ts';
import { probeTag } from '../../lib/store.ts';

const ok = (name: string) => ({ name, target: `${name}:***@tcp(h:1)/db`, run: () => {} });
const broken = (name: string, message: string) => ({
  name,
  target: `${name}:***@tcp(h:1)/db`,
  run: () => {
    throw Object.assign(new Error(message), { name: 'GoError' });
  },
});

describe('setup checks', () => {
  it('checks every endpoint, and gives each failing one its own line with what the server said', () => {
    const failed = runEndpointChecks([
      broken(
        'writer',
        "Error 1045 (28000): Access denied for user 'writer'@'127.0.0.1' (using password: YES)",
      ),
      ok('reader'),
      broken('replica monitor', 'dial tcp 127.0.0.1:1: connect: connection refused'),
    ]);
    expect(failed.map((f) => failureLine('sql-mixed', f))).toEqual([
      "sql-mixed setup: writer (writer:***@tcp(h:1)/db) failed its check: Error 1045 (28000): Access denied for user 'writer'@'127.0.0.1' (using password: YES)",
      'sql-mixed setup: replica monitor (replica monitor:***@tcp(h:1)/db) failed its check: dial tcp 127.0.0.1:1: connect: connection refused',
    ]);
    expect(abortReason('sql-mixed', failed, 3)).toBe(
      'sql-mixed: 2 of 3 endpoints failed the setup check (writer, replica monitor); no load was sent',
    );
    expect(runEndpointChecks([ok('writer'), ok('reader')])).toEqual([]);
  });

  it('names what holds a reused run id, or nothing when it is free', () => {
    expect(sqlHoldings(0, 0)).toBeNull();
    expect(sqlHoldings(201, 201)).toBe('the writer holds 201 probe_rows and 201 probe_acks rows of it');
    expect(apiHoldings(new Map())).toBeNull();
    expect(apiHoldings(new Map([[1, { acked: 0 }]]))).toBeNull();
    expect(
      apiHoldings(
        new Map([
          [1, { acked: 100 }],
          [2, { acked: 101 }],
        ]),
      ),
    ).toBe("the API's ledger holds 201 acknowledgements of it (2 VUs)");
    expect(
      reusedIdReason(
        'sql-write-load',
        'e2e-1',
        '0',
        'the writer holds 3 probe_rows and 3 probe_acks rows of it',
      ),
    ).toBe(
      'sql-write-load: CQRS_TEST_ID=e2e-1 is already used (runner 0): the writer holds 3 probe_rows and 3 probe_acks rows of it; choose a new CQRS_TEST_ID, or set CQRS_REUSE_TEST_ID=1 to add this run to it',
    );
  });

  it('a reused run counts its sequence from its start time: no key of an earlier run collides', () => {
    const earlier = reuseSeqBase(Date.UTC(2026, 11, 1, 12, 0, 0));
    const later = reuseSeqBase(Date.UTC(2026, 11, 1, 12, 0, 1));
    // A second apart leaves a million sequence numbers per VU for the earlier run.
    expect(later - earlier).toBe(1_000_000);
    expect(earlier).toBeGreaterThan(10_000_000);
    expect(Number.isSafeInteger(reuseSeqBase(Date.UTC(2200, 0, 1)))).toBe(true);
    // The longest key still fits probe_rows.tag (VARCHAR(128)).
    const tag = probeTag({
      runId: 'r'.repeat(64),
      runner: 'n'.repeat(32),
      vu: 4_294_967_295,
      seq: later + 10 ** 6,
    });
    expect(tag.length).toBeLessThanOrEqual(128);
  });
});
