/** k6 provides `console` (log/info/warn/error/debug to its logger); @types/k6 does not declare it. */
interface K6Console {
  log(...data: unknown[]): void;
  info(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
  debug(...data: unknown[]): void;
}
declare const console: K6Console;
