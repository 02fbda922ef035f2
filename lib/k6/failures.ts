/**
 * Errors said once. k6 logs every error thrown out of an iteration with its JS stack trace: against a killed
 * API at 300/s that was 3150 multi-line traces (2.2 MB) in 10 s. The harness (lib/k6/harness-core.ts) catches
 * them instead, classifies each by kind, counts it in `iteration_errors{kind}`, and logs through a FailureLog:
 * the first few of each kind per VU with their reason, then one line per period saying how many more there
 * were. Runtime-neutral: the clock and the log are passed in, so it is tested in Node.
 */
import { redact } from '../../common/dsn.ts';

export type ErrorKind =
  | 'db-auth'
  | 'db-unreachable'
  | 'db-duplicate'
  | 'db-read-only'
  | 'db-error'
  | 'api-unreachable'
  | 'api-status'
  | 'script';

export interface Failure {
  readonly kind: ErrorKind;
  /** One line, passwords redacted, at most REASON_MAX characters. */
  readonly reason: string;
}

const REASON_MAX = 300;

/** MySQL server error numbers by kind (the Go driver prints them as `Error 1045 (28000): …`). */
const DB_CODES: Readonly<Record<number, ErrorKind>> = {
  1044: 'db-auth',
  1045: 'db-auth',
  1142: 'db-auth',
  1227: 'db-auth',
  1698: 'db-auth',
  1062: 'db-duplicate',
  1290: 'db-read-only',
  1792: 'db-read-only',
  1836: 'db-read-only',
  // Too many connections, shutdown in progress, connection killed: the server is going or gone.
  1040: 'db-unreachable',
  1053: 'db-unreachable',
  1927: 'db-unreachable',
};

/** The Go driver's and net package's words for a connection that could not be made or was lost. */
const TRANSPORT =
  /dial tcp|connection refused|no such host|i\/o timeout|deadline exceeded|invalid connection|bad connection|broken pipe|connection reset|unexpected EOF|\bEOF\b/i;
/** Go's net/http errors name the method and the quoted URL: `Post "http://…/users": dial tcp …`. */
const HTTP_TRANSPORT = /^(Get|Post|Put|Patch|Delete|Head|Options) "https?:\/\//;

/** The first line of an error's text, without k6's `GoError: ` prefix, passwords redacted, bounded. */
export function reasonOf(err: unknown): string {
  const raw = typeof err === 'object' && err !== null && 'message' in err ? String(err.message) : String(err);
  const line = (raw.split('\n')[0] ?? '').replace(/^GoError: /, '').trim();
  // Credentials show as `user:secret@…` (a DSN, or a URL's user info): the shared redactor hides them. A
  // MySQL error's `'writer'@'127.0.0.1'` has no ':' before its '@' and stays readable.
  const safe = line
    .split(/(\s+)/)
    .map((t) => (/:[^@]*@/.test(t) ? redact(t) : t))
    .join('');
  return safe.length > REASON_MAX ? `${safe.slice(0, REASON_MAX - 1)}…` : safe || '(no message)';
}

/** What kind of error `err` is; an error may name its kind itself (ApiCallError does). */
export function classifyError(err: unknown): Failure {
  const reason = reasonOf(err);
  const own = typeof err === 'object' && err !== null && 'kind' in err ? String(err.kind) : '';
  if (own === 'api-unreachable' || own === 'api-status') return { kind: own, reason };
  if (HTTP_TRANSPORT.test(reason)) return { kind: 'api-unreachable', reason };
  const code = /^Error (\d{4}) /.exec(reason)?.[1];
  if (code !== undefined) return { kind: DB_CODES[Number(code)] ?? 'db-error', reason };
  if (TRANSPORT.test(reason)) return { kind: 'db-unreachable', reason };
  return { kind: 'script', reason };
}

export interface FailureLogOptions {
  /** Logged with their reason, per kind. */
  readonly perKind: number;
  /** At most one "how many more" line per this many ms. */
  readonly periodMs: number;
  readonly now: () => number;
  readonly log: (line: string) => void;
  /** Who is logging, e.g. `vu 3` (known only once the VU runs). */
  readonly label: () => string;
}

export const FAILURE_LOG_DEFAULTS = { perKind: 3, periodMs: 10_000 } as const;

/** One per VU (each VU is its own JS runtime, so the limits are per VU). */
export class FailureLog {
  private readonly logged = new Map<ErrorKind, number>();
  private readonly unlogged = new Map<ErrorKind, number>();
  private periodStart: number | null = null;

  constructor(private readonly opts: FailureLogOptions) {}

  report(f: Failure): void {
    const n = (this.logged.get(f.kind) ?? 0) + 1;
    if (n <= this.opts.perKind) {
      this.logged.set(f.kind, n);
      const more =
        n === this.opts.perKind
          ? `; more ${f.kind} errors are counted in iteration_errors and summed every ${this.opts.periodMs / 1000} s`
          : '';
      this.opts.log(`iteration error [${f.kind}] (${this.opts.label()}): ${f.reason}${more}`);
      return;
    }
    this.unlogged.set(f.kind, (this.unlogged.get(f.kind) ?? 0) + 1);
    this.periodStart ??= this.opts.now();
    this.tick();
  }

  /** Logs the "how many more" line once a period has passed since the first unlogged error. */
  tick(): void {
    if (this.periodStart !== null && this.opts.now() - this.periodStart >= this.opts.periodMs) this.flush();
  }

  /** Logs what is unlogged now (at the end of the VU's run, whatever the period). */
  flush(): void {
    if (this.unlogged.size === 0) return;
    const since = this.periodStart === null ? 0 : (this.opts.now() - this.periodStart) / 1000;
    const counts = [...this.unlogged].map(([kind, n]) => `${kind} ${n}`).join(', ');
    this.opts.log(
      `iteration errors not logged (${this.opts.label()}, last ${since.toFixed(0)} s): ${counts}`,
    );
    this.unlogged.clear();
    this.periodStart = null;
  }
}
