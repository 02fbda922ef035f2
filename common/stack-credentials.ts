/**
 * The lab's database accounts. The passwords are fixed and documented (a loopback lab), and each can be
 * overridden with CQRS_STACK_<ROLE>_PASSWORD. Node code only (the stack, the API's defaults, tests): nothing
 * under lib/, scenarios/ or common/ imports this file, and a bundle test checks that no password is in dist/.
 * Redis gets a generated password instead (stack/secrets.ts).
 */
export const STACK_DEFAULT_USERS = {
  writer: { user: 'writer', password: 'writer-secret' },
  reader: { user: 'reader', password: 'reader-secret' },
  repl: { user: 'repl', password: 'repl-secret' },
  exporter: { user: 'exporter', password: 'exporter-secret' },
  /** Reads replica status from k6 (Seconds_Behind); the exporter login is capped at 3 connections. */
  monitor: { user: 'monitor', password: 'monitor-secret' },
} as const;
