/**
 * Warnings that an outage repeats once per request (Redis down: one per cache read; a replica down: one per
 * 503) are logged the first `burst` times with their reason, then as one line per `periodMs` saying how many
 * more there were. A period without any lets the key start afresh. Metrics count every occurrence; this only
 * bounds the log.
 */

export interface WarnLog {
  warn(obj: object, msg: string): void;
}

export interface LogLimitOptions {
  /** Occurrences logged in full before counting starts. */
  burst: number;
  periodMs: number;
}

export const DEFAULT_LOG_LIMIT: LogLimitOptions = { burst: 3, periodMs: 10_000 };

interface KeyState {
  msg: string;
  shown: number;
  suppressed: number;
  /** The reason of the newest suppressed occurrence, for the summary line. */
  last: object;
  timer: NodeJS.Timeout;
}

export class LogLimiter {
  private readonly keys = new Map<string, KeyState>();

  constructor(
    private readonly log: WarnLog,
    private readonly opts: LogLimitOptions = DEFAULT_LOG_LIMIT,
  ) {}

  /** `key` groups occurrences of one kind (usually the message, plus a dependency). */
  warn(key: string, obj: object, msg: string): void {
    let st = this.keys.get(key);
    if (!st) {
      // Unref'd: a pending summary never keeps the process alive; close() flushes it.
      const timer = setInterval(() => this.tick(key), this.opts.periodMs).unref();
      st = { msg, shown: 0, suppressed: 0, last: obj, timer };
      this.keys.set(key, st);
    }
    if (st.shown < this.opts.burst) {
      st.shown += 1;
      this.log.warn(obj, msg);
      return;
    }
    st.suppressed += 1;
    st.last = obj;
  }

  /** A view with the WarnLog shape, keyed by message: for code that logs through a plain `log.warn`. */
  readonly byMessage: WarnLog = { warn: (obj, msg) => this.warn(msg, obj, msg) };

  /** Logs what is still counted and stops every timer (app close). */
  close(): void {
    for (const key of [...this.keys.keys()]) {
      this.summarise(this.keys.get(key) as KeyState);
      this.drop(key);
    }
  }

  private tick(key: string): void {
    const st = this.keys.get(key);
    if (!st) return;
    // A quiet period ends the episode: the next occurrence is logged in full again.
    if (st.suppressed === 0) this.drop(key);
    else this.summarise(st);
  }

  private summarise(st: KeyState): void {
    if (st.suppressed === 0) return;
    this.log.warn(
      { ...st.last, suppressed: st.suppressed },
      `${st.msg}: ${st.suppressed} more like this since the last line (one line per ${this.opts.periodMs / 1000} s)`,
    );
    st.suppressed = 0;
  }

  private drop(key: string): void {
    const st = this.keys.get(key);
    if (st) clearInterval(st.timer);
    this.keys.delete(key);
  }
}
