/**
 * A TCP proxy between the replica's IO thread and the primary that holds every primary→replica chunk for D ms,
 * which injects sub-second replication lag (tc netem is unavailable here; MASTER_DELAY only does whole seconds).
 * Chunks keep their order when D changes: a chunk is never released before the one in front of it. Replica→
 * primary traffic passes at once. D is read and changed over a small HTTP control port: GET/PUT /delay.
 * The control port is loopback only and unauthenticated (a lab knob, like the other lab endpoints); it reads
 * at most MAX_BODY_BYTES of a body, so no client can make it buffer, and says in JSON what it refused and why.
 */
import { createServer as createHttpServer, type Server as HttpServer, type IncomingMessage } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface DelayProxyOptions {
  listenPort: number;
  targetPort: number;
  controlPort: number;
  /** Where both ports listen (default 127.0.0.1). */
  host?: string;
  /** Where the target listens (default: `host`); a container's proxy listens on 0.0.0.0 and reaches 127.0.0.1. */
  targetHost?: string;
  delayMs?: number;
}

export const MAX_DELAY_MS = 600_000;
/** A PUT body is `{"delayMs": n}`: a few bytes. Anything past this is refused (413) without being read. */
export const MAX_BODY_BYTES = 4096;

type Reply = [status: number, body: Record<string, unknown>];

class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Stops reading a request's socket for good: the rest of its body stays in the kernel's socket buffer, never in
 * this process. Node resumes the socket on its own (a 'resume' queued while reading the request, and draining
 * an unread body after the answer), so it is paused again each time.
 */
function stopReading(socket: Socket): void {
  socket.pause();
  socket.on('resume', () => socket.pause());
}

/**
 * The request body, at most `limit` bytes; past the limit, or when the declared length is past it, a 413 error
 * and the socket is no longer read.
 */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const refuse = () => {
      req.off('data', onData);
      chunks.length = 0;
      stopReading(req.socket);
      reject(new RequestError(413, `body larger than ${limit} bytes`));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) refuse();
      else chunks.push(chunk);
    };
    // Listening marks the body as consumed, so Node does not drain it after the answer; it also starts reading
    // on the next tick, so a body declared too long is refused just after that (setImmediate), not before.
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
    if (Number(req.headers['content-length'] ?? 0) > limit) setImmediate(refuse);
  });
}

/**
 * A connection whose request body was left unread ends after the answer, but not outright: closing with data
 * unread resets it, and the client may lose the answer. Node would do just that (destroySoon, for a
 * `connection: close` answer), so the socket half-closes instead and is dropped after a linger, unread.
 */
function closeAfterAnswer(socket: Socket, lingerMs = 1000): void {
  stopReading(socket);
  socket.destroySoon = () => {
    socket.end();
    setTimeout(() => socket.destroy(), lingerMs).unref();
  };
}

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
    // Whole milliseconds, rounded up: Node truncates a fractional delay, which fires early, finds nothing due
    // and waits another timer tick (adding up to a millisecond to the injected delay).
    this.timer = setTimeout(() => this.release(), Math.max(0, Math.ceil(head.due - performance.now())));
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
    // A request that never completes is cut after requestTimeout, checked every second (Node's default: 30 s).
    const limits = { requestTimeout: 10_000, headersTimeout: 5_000, connectionsCheckingInterval: 1_000 };
    this.control = createHttpServer(limits, (req, res) => {
      void this.onControl(req)
        .catch((err: unknown): Reply => {
          if (err instanceof RequestError) return [err.status, { error: err.message }];
          return [500, { error: err instanceof Error ? err.message : String(err) }];
        })
        .then(([status, body]) => {
          const unread = !req.complete;
          if (unread) closeAfterAnswer(req.socket);
          res
            .writeHead(status, {
              'content-type': 'application/json',
              ...(unread ? { connection: 'close' } : {}),
            })
            .end(JSON.stringify(body));
        });
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
    const upstream = connect(this.opts.targetPort, this.opts.targetHost ?? this.opts.host ?? '127.0.0.1');
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

  private async onControl(req: IncomingMessage): Promise<Reply> {
    if (req.url !== '/delay') return [404, { error: 'not found; use /delay' }];
    if (req.method === 'GET') return [200, { delayMs: this.delayMs }];
    if (req.method !== 'PUT') return [405, { error: 'use GET or PUT' }];
    const body = await readBody(req, MAX_BODY_BYTES);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return [400, { error: 'body must be JSON like {"delayMs": 50}' }];
    }
    const value = (parsed as { delayMs?: unknown } | null)?.delayMs;
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
