/**
 * A real stack (MariaDB primary + replica behind the delay proxy, Redis) and the API built on it in-process,
 * for tests that use `app.inject`. Tests that need the API as a process start the stack with `api: true`.
 */
import { buildApp } from '../../api/app.ts';
import { type ApiConfig, loadConfig } from '../../api/config.ts';
import { toEnv } from '../../stack/endpoints.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

export interface ApiFixture {
  stack: TestStack;
  app: Awaited<ReturnType<typeof buildApp>>;
  config: ApiConfig;
  close(): Promise<void>;
}

export async function startApiFixture(env: Record<string, string> = {}): Promise<ApiFixture> {
  const stack = await startTestStack();
  try {
    const config = loadConfig({ ...toEnv(stack.endpoints), CQRS_API_LOG_LEVEL: 'silent', ...env });
    const app = await buildApp(config);
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
