/**
 * A control request after this process was blocked past the server's keep-alive (stack/control-request.ts).
 * The real delay proxy runs as its own process, as the stack starts it, so its keep-alive timer fires while
 * this one is blocked; a blocking clock like k6's (test/measurement/lag-bounds.test.ts) does exactly that
 * between two `setLag` calls, which then said "the delay proxy is not running".
 *
 * The reproduction needs one turn of the event loop between the first answer and the block: undici hands an
 * idle HTTP/1.1 connection back to its pool on a setImmediate after the answer, so a request made before that
 * opens a new connection and cannot meet the stale one. After the block, the request has to go out in the
 * same turn (no timer or I/O callback in between): then neither undici's own keep-alive timer (the server's
 * announced timeout − 2 s) nor the server's FIN has been processed, and the pool hands out the dead socket.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStackConfig, PROJECT_ROOT, type StackConfig } from '../../stack/config.ts';
import { isStaleConnectionError, putJson } from '../../stack/control-request.ts';
import { setLag } from '../../stack/lag-control.ts';
import { NODE_LAUNCHER } from '../../stack/services.ts';
import { freePorts } from '../kit/stack.ts';

/** How far past the server's keep-alive this process stays blocked: room for a slow machine to close. */
const BLOCK_MARGIN_MS = 1500;

let proxy: ChildProcess;
let url: string;
let deadPort: number;
let cfg: StackConfig;

beforeAll(async () => {
  const ports = await freePorts();
  deadPort = ports.primary; // the proxy's target: nothing listens there
  url = `http://127.0.0.1:${ports.delayProxyControl}/delay`;
  cfg = loadStackConfig({}, { stateDir: mkdtempSync(join(tmpdir(), 'cqrs-control-')), ports });
  // Exactly as the stack starts it (stack/services.ts), so the server and its keep-alive are the real ones.
  proxy = spawn(
    process.execPath,
    [
      NODE_LAUNCHER,
      join(PROJECT_ROOT, 'stack', 'delay-proxy.ts'),
      String(ports.delayProxy),
      String(ports.primary),
      String(ports.delayProxyControl),
    ],
    { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  proxy.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  await new Promise<void>((ok, fail) => {
    proxy.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('delay proxy')) ok();
    });
    proxy.once('exit', (code) => fail(new Error(`the delay proxy exited (${code}): ${stderr}`)));
  });
}, 60_000);

afterAll(async () => {
  if (proxy?.pid && proxy.exitCode === null && proxy.signalCode === null) {
    const exited = new Promise((ok) => proxy.once('exit', ok));
    process.kill(proxy.pid, 'SIGTERM');
    await Promise.race([exited, sleep(5000)]);
    if (proxy.exitCode === null && proxy.signalCode === null) process.kill(proxy.pid, 'SIGKILL');
  }
  if (cfg) rmSync(cfg.stateDir, { recursive: true, force: true });
});

const plainPut = (delayMs: number) => fetch(url, { method: 'PUT', body: JSON.stringify({ delayMs }) });

/**
 * Leaves fetch's pool holding a connection the server has closed, unbeknown to this process: one PUT, a turn
 * of the event loop, then this process blocked past the keep-alive the server announced.
 */
async function staleConnection(): Promise<void> {
  const res = await plainPut(1);
  expect(res.status).toBe(200);
  const keepAliveS = Number(/timeout=(\d+)/.exec(res.headers.get('keep-alive') ?? '')?.[1]);
  expect(keepAliveS, 'the server announces its keep-alive timeout').toBeGreaterThan(0);
  await res.text();
  await sleep(50);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, keepAliveS * 1000 + BLOCK_MARGIN_MS);
}

async function currentDelay(): Promise<unknown> {
  return ((await (await fetch(url)).json()) as { delayMs: unknown }).delayMs;
}

/** A fetch that records each call's outcome. */
function recordingFetch(): { fetch: typeof fetch; outcomes: unknown[] } {
  const outcomes: unknown[] = [];
  return {
    outcomes,
    fetch: (input, init) =>
      fetch(input, init).then(
        (res) => {
          outcomes.push(res.status);
          return res;
        },
        (err: unknown) => {
          outcomes.push(err);
          throw err;
        },
      ),
  };
}

describe('a control PUT after the process was blocked past the server keep-alive', () => {
  it('fails with a plain fetch: the reused connection was closed by the server (the reproduction is real)', async () => {
    await staleConnection();
    const err = await plainPut(2).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err, 'a plain fetch on the stale connection must fail').toBeInstanceOf(TypeError);
    expect(isStaleConnectionError(err)).toBe(true);
    // The server is up all along, and never saw the failed PUT.
    expect(await currentDelay()).toBe(1);
  }, 30_000);

  it('succeeds through putJson, which retried once on a new connection', async () => {
    await staleConnection();
    const rec = recordingFetch();
    const res = await putJson(url, { delayMs: 2 }, rec.fetch);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ delayMs: 2 });
    // Two attempts, the first on the stale connection: the retry path ran, not a lucky new connection.
    expect(rec.outcomes).toHaveLength(2);
    expect(isStaleConnectionError(rec.outcomes[0])).toBe(true);
    expect(rec.outcomes[1]).toBe(200);
  }, 30_000);

  it('succeeds through setLag (stack:lag), which said "the delay proxy is not running"', async () => {
    await staleConnection();
    await expect(setLag(cfg, '3ms')).resolves.toBe('replication delay set to 3 ms (delay proxy)');
    expect(await currentDelay()).toBe(3);
  }, 30_000);
});

describe('putJson retries nothing else', () => {
  it('does not retry a refused connection (nothing listening): one attempt, then fetch’s error', async () => {
    const rec = recordingFetch();
    const err = await putJson(`http://127.0.0.1:${deadPort}/delay`, { delayMs: 0 }, rec.fetch).catch(
      (e: unknown) => e,
    );
    expect(rec.outcomes).toHaveLength(1);
    expect((err as { cause?: { code?: string } }).cause?.code).toBe('ECONNREFUSED');
    expect(isStaleConnectionError(err)).toBe(false);
  });

  it('returns an HTTP refusal as is, without retrying', async () => {
    const rec = recordingFetch();
    const res = await putJson(url, { delayMs: -1 }, rec.fetch);
    expect(res.status).toBe(400);
    expect(rec.outcomes).toEqual([400]);
  });

  it('retries a stale connection only once', async () => {
    let calls = 0;
    const alwaysStale: typeof fetch = async () => {
      calls++;
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
      });
    };
    await expect(putJson(url, { delayMs: 0 }, alwaysStale)).rejects.toThrow('fetch failed');
    expect(calls).toBe(2);
  });

  it('recognises undici’s stale-connection errors by code or message, and nothing else', () => {
    const failed = (cause: unknown) => new TypeError('fetch failed', { cause });
    for (const code of ['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE'])
      expect(isStaleConnectionError(failed(Object.assign(new Error('x'), { code })))).toBe(true);
    expect(isStaleConnectionError(failed(new Error('other side closed')))).toBe(true);
    for (const code of ['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND'])
      expect(isStaleConnectionError(failed(Object.assign(new Error('x'), { code })))).toBe(false);
    expect(isStaleConnectionError(new Error('no cause'))).toBe(false);
    expect(isStaleConnectionError(null)).toBe(false);
  });
});
