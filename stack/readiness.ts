/** Readiness by real requests, polled briefly; a process that dies meanwhile fails at once with its log. */
import { setTimeout as sleep } from 'node:timers/promises';
import { StackError } from './errors.ts';
import { isRunning, logTail, type ProcessRecord } from './processes.ts';

export interface ReadyContext {
  name: string;
  rec: ProcessRecord;
  stateDir: string;
  timeoutMs: number;
}

export async function pollUntil(
  ctx: ReadyContext,
  attempt: () => Promise<boolean>,
  what: string,
): Promise<void> {
  const deadline = Date.now() + ctx.timeoutMs;
  for (;;) {
    if (!isRunning(ctx.rec)) {
      throw new StackError(
        `${ctx.name} exited during start-up (${logTail(ctx.stateDir, ctx.name) || 'no output'})`,
      );
    }
    // Not ready yet is false or any error; a StackError says waiting cannot help, so it ends the wait.
    const ok = await attempt().catch((err: unknown) => {
      if (err instanceof StackError) throw err;
      return false;
    });
    if (ok) return;
    if (Date.now() > deadline) {
      throw new StackError(`${ctx.name} did not become ready within ${ctx.timeoutMs} ms (${what})`);
    }
    await sleep(20);
  }
}

export function httpReady(
  ctx: ReadyContext,
  url: string,
  bodyCheck?: (body: string) => boolean,
): Promise<void> {
  return pollUntil(
    ctx,
    async () => {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (!res.ok) return false;
      return bodyCheck ? bodyCheck(await res.text()) : true;
    },
    `GET ${url}`,
  );
}
