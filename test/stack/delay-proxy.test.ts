import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DelayProxy, MAX_BODY_BYTES } from '../../stack/delay-proxy.ts';
import { freePorts } from '../kit/stack.ts';
import { hugePut } from './http-put.ts';

// An upstream that, for every byte it receives, answers with a numbered chunk: the proxy must deliver them in
// order, each no earlier than the delay in force when it arrived.
let upstream: Server;
let proxy: DelayProxy;
let controlUrl: string;
let proxyPort: number;

beforeAll(async () => {
  const ports = await freePorts();
  upstream = createServer((s) => {
    let n = 0;
    s.on('data', (buf) => {
      for (let i = 0; i < buf.length; i++) s.write(`${n++};`);
    });
  });
  await new Promise<void>((ok) => upstream.listen(ports.primary, '127.0.0.1', ok));
  proxyPort = ports.delayProxy;
  proxy = new DelayProxy({
    listenPort: proxyPort,
    targetPort: ports.primary,
    controlPort: ports.delayProxyControl,
  });
  await proxy.listen();
  controlUrl = `http://127.0.0.1:${ports.delayProxyControl}/delay`;
});

afterAll(async () => {
  await proxy.close();
  upstream.close();
});

async function connectClient(): Promise<{ sock: Socket; received: () => string }> {
  const { connect } = await import('node:net');
  const sock = connect(proxyPort, '127.0.0.1');
  let data = '';
  sock.on('data', (b) => {
    data += b.toString();
  });
  await new Promise((ok) => sock.once('connect', ok));
  return { sock, received: () => data };
}

const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 1));
};

describe('delay proxy', () => {
  it('reports and changes the delay over its control port, and rejects bad values', async () => {
    await expect((await fetch(controlUrl)).json()).resolves.toEqual({ delayMs: 0 });
    const put = await fetch(controlUrl, { method: 'PUT', body: JSON.stringify({ delayMs: 30 }) });
    expect(await put.json()).toEqual({ delayMs: 30 });
    for (const bad of [-1, 'x', 1e9, null]) {
      const res = await fetch(controlUrl, { method: 'PUT', body: JSON.stringify({ delayMs: bad }) });
      expect(res.status).toBe(400);
    }
    await fetch(controlUrl, { method: 'PUT', body: JSON.stringify({ delayMs: 0 }) });
  });

  it('answers a body that is not JSON with 400 and a JSON reason (it answered an empty 500)', async () => {
    for (const body of ['not json', '', '{"delayMs":', 'null', '[1]']) {
      const res = await fetch(controlUrl, { method: 'PUT', body });
      expect(res.status, body).toBe(400);
      expect(await res.json()).toEqual({ error: expect.stringMatching(/JSON|delayMs/) });
    }
    expect((await (await fetch(controlUrl)).json()) as unknown).toEqual({ delayMs: 0 });
  });

  it('refuses a body over 4 KiB with 413 before reading it, declared or streamed', async () => {
    expect(MAX_BODY_BYTES).toBe(4096);
    const ok = await fetch(controlUrl, {
      method: 'PUT',
      body: JSON.stringify({ delayMs: 0, pad: 'x'.repeat(MAX_BODY_BYTES - 40) }),
    });
    expect(ok.status).toBe(200);
    for (const declare of [true, false]) {
      const res = await hugePut(controlUrl, 64 * 1024 * 1024, declare);
      expect(res.status, `declared=${declare}`).toBe(413);
      expect(JSON.parse(res.body)).toEqual({ error: `body larger than ${MAX_BODY_BYTES} bytes` });
      // Answered long before 64 MB could have gone over loopback, and the connection closed.
      expect(res.ms).toBeLessThan(1000);
      expect(res.sentBytes).toBeLessThan(32 * 1024 * 1024);
    }
  });

  it('holds upstream→client traffic for the delay and keeps order when the delay drops', async () => {
    const { sock, received } = await connectClient();
    await fetch(controlUrl, { method: 'PUT', body: JSON.stringify({ delayMs: 60 }) });
    const t0 = performance.now();
    sock.write('aaa');
    await until(() => received().length > 0);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
    // Lower the delay while chunks are in flight: later chunks must not overtake earlier ones.
    sock.write('bb');
    await new Promise((r) => setTimeout(r, 5));
    await fetch(controlUrl, { method: 'PUT', body: JSON.stringify({ delayMs: 0 }) });
    sock.write('c');
    await until(() => received().split(';').length > 6);
    expect(received()).toBe('0;1;2;3;4;5;');
    sock.destroy();
  });
});

describe('delay proxy listening on every interface (the Compose lab)', () => {
  it('reaches its target on the host given apart from where it listens', async () => {
    const ports = await freePorts();
    const echo = createServer((s) => s.pipe(s));
    await new Promise<void>((ok) => echo.listen(ports.primary, '127.0.0.1', ok));
    const wide = new DelayProxy({
      listenPort: ports.delayProxy,
      targetPort: ports.primary,
      controlPort: ports.delayProxyControl,
      host: '0.0.0.0',
      targetHost: '127.0.0.1',
    });
    await wide.listen();
    try {
      const { connect } = await import('node:net');
      const sock = connect(ports.delayProxy, '127.0.0.1');
      let data = '';
      sock.on('data', (b) => {
        data += b.toString();
      });
      await new Promise((ok) => sock.once('connect', ok));
      sock.write('ping');
      await until(() => data === 'ping');
      expect(data).toBe('ping');
      sock.destroy();
    } finally {
      await wide.close();
      echo.close();
    }
  });
});
