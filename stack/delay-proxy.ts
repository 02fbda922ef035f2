/**
 * A TCP proxy between the replica's IO thread and the primary that holds every primary→replica chunk for D ms,
 * which injects sub-second replication lag (tc netem is unavailable here; MASTER_DELAY only does whole seconds).
 * Chunks keep their order when D changes: a chunk is never released before the one in front of it. Replica→
 * primary traffic passes at once. D is read and changed over a small HTTP control port: GET/PUT /delay.
 */
import { createServer as createHttpServer, type Server as HttpServer, type IncomingMessage } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface DelayProxyOptions {
  listenPort: number;
  targetPort: number;
  controlPort: number;
  host?: string;
  delayMs?: number;
}

export const MAX_DELAY_MS = 600_000;

/** Queue of chunks released in order, each no earlier than its due time. */
class DelayedPipe {
  private readonly queue: { due: number; chunk: Buffer }[] = [];
  private lastDue = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: Socket,
    private readonly delayMs: () => number,
  ) {}

  push(chunk: Buffer): void {
    const delay = this.delayMs();
    if (delay === 0 && this.queue.length === 0) {
      this.out.write(chunk);
      return;
    }
    const due = Math.max(performance.now() + delay, this.lastDue);
    this.lastDue = due;
    this.queue.push({ due, chunk });
    if (this.queue.length === 1) this.schedule();
  }

  private schedule(): void {
    const head = this.queue[0];
    if (!head || this.timer) return;
    this.timer = setTimeout(() => this.release(), Math.max(0, head.due - performance.now()));
  }

  private release(): void {
    this.timer = undefined;
    const now = performance.now();
    while (this.queue.length > 0 && (this.queue[0] as { due: number }).due <= now) {
      const { chunk } = this.queue.shift() as { chunk: Buffer };
      if (!this.out.destroyed) this.out.write(chunk);
    }
    this.schedule();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.queue.length = 0;
  }
}

export class DelayProxy {
  delayMs: number;
  private readonly proxy: Server;
  private readonly control: HttpServer;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly opts: DelayProxyOptions) {
    this.delayMs = opts.delayMs ?? 0;
    this.proxy = createServer((client) => this.onClient(client));
    this.control = createHttpServer((req, res) => {
      void this.onControl(req).then(
        ([status, body]) => {
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        },
        () => res.writeHead(500).end(),
      );
    });
  }

  async listen(): Promise<void> {
    const host = this.opts.host ?? '127.0.0.1';
    await new Promise<void>((ok, fail) => {
      this.proxy.once('error', fail).listen(this.opts.listenPort, host, ok);
    });
    await new Promise<void>((ok, fail) => {
      this.control.once('error', fail).listen(this.opts.controlPort, host, ok);
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all([
      new Promise((ok) => this.proxy.close(ok)),
      new Promise((ok) => this.control.close(ok)),
    ]);
  }

  private onClient(client: Socket): void {
    const upstream = connect(this.opts.targetPort, this.opts.host ?? '127.0.0.1');
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    this.sockets.add(client).add(upstream);
    const toReplica = new DelayedPipe(client, () => this.delayMs);
    upstream.on('data', (chunk: Buffer) => toReplica.push(chunk));
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    const teardown = () => {
      toReplica.stop();
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    for (const s of [client, upstream]) {
      s.on('close', teardown);
      s.on('error', teardown);
    }
  }

  private async onControl(req: IncomingMessage): Promise<[number, unknown]> {
    if (req.url !== '/delay') return [404, { error: 'not found' }];
    if (req.method === 'GET') return [200, { delayMs: this.delayMs }];
    if (req.method !== 'PUT') return [405, { error: 'use GET or PUT' }];
    let body = '';
    for await (const chunk of req) body += chunk;
    const value = (JSON.parse(body || '{}') as { delayMs?: unknown }).delayMs;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_DELAY_MS) {
      return [400, { error: `delayMs must be a number from 0 to ${MAX_DELAY_MS}` }];
    }
    this.delayMs = value;
    return [200, { delayMs: this.delayMs }];
  }
}

/** Entry point when started by the stack as its own process. */
async function main(): Promise<void> {
  const [listenPort, targetPort, controlPort, delayMs] = process.argv.slice(2).map(Number);
  if (![listenPort, targetPort, controlPort].every((p) => Number.isInteger(p) && (p as number) > 0)) {
    console.error('usage: delay-proxy <listenPort> <targetPort> <controlPort> [delayMs]');
    process.exit(2);
  }
  const proxy = new DelayProxy({
    listenPort: listenPort as number,
    targetPort: targetPort as number,
    controlPort: controlPort as number,
    delayMs: delayMs ?? 0,
  });
  await proxy.listen();
  console.log(`delay proxy 127.0.0.1:${listenPort} -> ${targetPort}, control on ${controlPort}`);
  const stop = () => void proxy.close().then(() => process.exit(0));
  process.on('SIGTERM', stop).on('SIGINT', stop);
}

if (process.argv[1] && /delay-proxy\.(ts|js|mjs)$/.test(process.argv[1])) {
  main().catch((err: unknown) => {
    console.error(`delay proxy: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
