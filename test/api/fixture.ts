/**
 * A real stack (MariaDB primary + replica behind the delay proxy, Redis) and the API built on it in-process,
 * for tests that use `app.inject`. Tests that need the API as a process start the stack with `api: true`.
 */
import type { FastifyServerOptions } from 'fastify';
import { buildApp } from '../../api/app.ts';
import { type ApiConfig, loadConfig } from '../../api/config.ts';
import { toEnv } from '../../common/endpoints.ts';
import { readRegistry } from '../../stack/processes.ts';
import { startTestStack, type TestStack } from '../kit/stack.ts';

export interface ApiFixture {
  stack: TestStack;
  app: Awaited<ReturnType<typeof buildApp>>;
  config: ApiConfig;
  close(): Promise<void>;
}

/** `overrides` go to Fastify (e.g. a logger with a stream to read the log lines from). */
export async function startApiFixture(
  env: Record<string, string> = {},
  overrides: FastifyServerOptions = {},
): Promise<ApiFixture> {
  const stack = await startTestStack();
  try {
    const config = loadConfig({ ...toEnv(stack.endpoints), CQRS_API_LOG_LEVEL: 'silent', ...env });
    const app = await buildApp(config, overrides);
    return {
      stack,
      app,
      config,
      close: async () => {
        await app.close();
        await stack.down();
      },
    };
  } catch (err) {
    await stack.down();
    throw err;
  }
}

let seq = 0;
/** An email no other test run uses. */
export function uniqueEmail(tag: string): string {
  seq += 1;
  return `${tag}-${process.pid}-${Date.now()}-${seq}@example.test`;
}

/** Median of a list of numbers (the lower middle one for an even count). */
export function p50(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

/**
 * Pauses the stack's replica with SIGSTOP: its sockets stay open and nothing answers, as a hung or swapped-out
 * server does (a stopped one refuses connections instead). Returns the resume, which is safe to call twice.
 */
export function pauseReplica(stack: TestStack): () => void {
  const rec = readRegistry(stack.stateDir).replica;
  if (!rec) throw new Error('the stack has no replica process');
  process.kill(rec.pid, 'SIGSTOP');
  let resumed = false;
  return () => {
    if (resumed) return;
    resumed = true;
    process.kill(rec.pid, 'SIGCONT');
  };
}

/** The `q` quantile (0–1) of a list of numbers, nearest rank. */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

/** Retries `probe` until it returns true; the bound only keeps a broken recovery from hanging the suite. */
export async function eventually(probe: () => Promise<boolean>, boundMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + boundMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
