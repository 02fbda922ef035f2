/**
 * /readyz reports replica lag with the scenarios' heartbeat estimator (common/heartbeat.ts), not the age of the
 * newest heartbeat (which is the lag plus up to one beat interval, or minutes when nobody beats any more).
 */
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEARTBEAT_SQL } from '../../common/heartbeat.ts';
import { type ApiFixture, startApiFixture } from './fixture.ts';

interface Ready {
  status: string;
  replica: {
    reachable: boolean;
    heartbeatLagMs: number | null;
    heartbeatBasis: string | null;
    newestBeatAgeMs: number | null;
  };
}

let f: ApiFixture;
const ready = async () => (await f.app.inject({ method: 'GET', url: '/readyz' })).json() as Ready;

beforeAll(async () => {
  f = await startApiFixture();
}, 120_000);

afterAll(async () => {
  await f?.close();
});

describe('/readyz replica lag', () => {
  it('is null before any heartbeat, then the apply lag of the newest beat, even when that beat is old', async () => {
    expect((await ready()).replica).toMatchObject({
      reachable: true,
      heartbeatLagMs: null,
      newestBeatAgeMs: null,
    });
    const writer = await mysql.createConnection({ ...f.stack.endpoints.writer });
    try {
      await f.stack.setLag('50ms');
      await writer.query(HEARTBEAT_SQL.logBeat);
      await new Promise((r) => setTimeout(r, 400));
      const { replica } = await ready();
      expect(replica.heartbeatBasis).toBe('apply-stamp');
      expect(replica.heartbeatLagMs).toBeGreaterThanOrEqual(50);
      expect(replica.heartbeatLagMs).toBeLessThan(58);
      // The beat itself is older than the lag: the old figure (its age) read ~400 ms here.
      expect(replica.newestBeatAgeMs).toBeGreaterThan(300);
      // A frozen replica: a newer beat it lacks makes the lag grow with that beat's age.
      await f.stack.setLag('freeze');
      await writer.query(HEARTBEAT_SQL.logBeat);
      await new Promise((r) => setTimeout(r, 300));
      expect((await ready()).replica.heartbeatLagMs).toBeGreaterThanOrEqual(300);
    } finally {
      await f.stack.setLag('thaw');
      await f.stack.setLag('0');
      await writer.end();
    }
  });
});
