/**
 * The API's own heartbeat: every CQRS_API_HEARTBEAT_INTERVAL_MS a beat on the writer, with the scenarios'
 * statements (common/heartbeat.ts). /readyz estimates replica lag from beats; without a writer of its own it
 * could only report the lag as of the last beat a test run wrote, minutes ago. Why a writer rather than another
 * source: the estimator is the one every other lag figure uses (exact for a steady lag, growing while the
 * replica is frozen), and was made for several writers at any rate (INSERT IGNORE, GREATEST); a replica-side
 * `Seconds_Behind_Master` is whole seconds, NULL or 0 when idle, and needs a monitor login the reader lacks;
 * comparing GTID positions says "behind" but not by how long. The cost is two one-row writes per interval on the
 * primary (and their replication), plus a prune of beats past the retention now and then.
 */
import fp from 'fastify-plugin';
import { BEAT_STATEMENTS, HEARTBEAT_SQL } from '../../common/heartbeat.ts';
import { withConnection } from '../db.ts';
import { describe } from '../errors.ts';

/** Beats between prunes: at 1 s, one range delete a minute, as the k6 heartbeat writer roughly does. */
const PRUNE_EVERY_BEATS = 60;

export interface HeartbeatState {
  readonly intervalMs: number;
  /** Outcome of the newest beat: null before the first one (or with the writer off). */
  lastBeatOk: boolean | null;
}

declare module 'fastify' {
  interface FastifyInstance {
    heartbeat: HeartbeatState;
  }
}

export interface HeartbeatOptions {
  /** 0 writes no beats. */
  intervalMs: number;
}

export const heartbeatPlugin = fp<HeartbeatOptions>(
  async (app, { intervalMs }) => {
    const state: HeartbeatState = { intervalMs, lastBeatOk: null };
    app.decorate('heartbeat', state);
    if (intervalMs === 0) return;
    let beats = 0;
    let inFlight: Promise<void> | null = null;
    const beat = async () => {
      try {
        await withConnection(app.writer, app.dbCalls.writer, async (conn) => {
          for (const sql of BEAT_STATEMENTS) await conn.query(sql);
          if (++beats % PRUNE_EVERY_BEATS === 0) await conn.query(HEARTBEAT_SQL.prune);
        });
        state.lastBeatOk = true;
        app.metrics.heartbeats.inc({ result: 'ok' });
      } catch (err) {
        state.lastBeatOk = false;
        app.metrics.heartbeats.inc({ result: 'error' });
        app.logLimiter.warn('heartbeat', { err: describe(err) }, 'heartbeat write failed');
      }
    };
    // One beat at a time: a slow primary must not pile them up.
    const tick = () => {
      inFlight ??= beat().finally(() => {
        inFlight = null;
      });
    };
    let timer: NodeJS.Timeout | undefined;
    app.addHook('onReady', async () => {
      tick();
      timer = setInterval(tick, intervalMs).unref();
    });
    app.addHook('onClose', async () => {
      clearInterval(timer);
      await inFlight;
    });
  },
  { name: 'heartbeat', dependencies: ['mysql-pool', 'metrics', 'db-calls'], fastify: '5.x' },
);
