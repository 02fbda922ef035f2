/** What bench api prints: what each side includes, the table of cases, and the ratios it exists for. */
import type { LoadGen } from './load-gen.ts';
import type { Result } from './result.ts';

const fmt = (n: number, digits = 2) => n.toFixed(digits);

const CPU_COLUMNS = ['client', 'api', 'primary', 'replica', 'redis'];

/** What each side of a comparison includes, printed with the figures. */
export function describeSides(loadGen: LoadGen): void {
  const gen =
    loadGen === 'wrk'
      ? 'wrk (C, 1 thread, keep-alive)'
      : 'autocannon (Node, keep-alive; install Debian package wrk for a cheaper client)';
  console.log(
    [
      'What each side includes (all processes share the same cores, so CPU spent anywhere lowers throughput):',
      `- API: load generator ${gen} -> HTTP/1.1 over loopback -> API process (Fastify routing, schema`,
      '  validation, strategy, mysql2 execute, JSON serialisation, metrics) -> replica.',
      '- direct: this Node process runs the same number of closed-loop workers, each awaiting mysql2',
      '  execute on a reader pool configured as in the API (trace off) -> replica. No HTTP and no separate',
      '  load generator: the loop is the application making its own database call, work the API also does.',
      'So the API side pays for an HTTP client the direct side does not have; that is inherent to comparing a',
      'service with a library call on one machine. wrk keeps that client cost small; the last line shows the',
      'CPU-bound ceiling with and without the load generator counted.',
    ].join('\n'),
  );
}

export function table(results: Result[]): void {
  console.log(
    `${'case'.padEnd(44)} ${'req/s'.padStart(7)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} err | CPU µs/request: ${CPU_COLUMNS.join(' / ')}`,
  );
  for (const r of results) {
    const cpu = CPU_COLUMNS.map((c) => fmt((r.cpu?.[c] ?? 0) * 1000, 0)).join(' / ');
    console.log(
      `${r.label.padEnd(44)} ${fmt(r.rps, 0).padStart(7)} ${fmt(r.p50, 3).padStart(7)} ${fmt(r.p99, 3).padStart(7)} ${String(r.errors).padStart(3)} | ${cpu}`,
    );
  }
}

function compare(what: string, api: Result, base: Result): void {
  console.log(
    `${what}: throughput API/direct = ${fmt(api.rps / base.rps)}×, p50 +${fmt(api.p50 - base.p50, 3)} ms, ` +
      `p99 +${fmt(api.p99 - base.p99, 3)} ms`,
  );
}

export interface Cases {
  connections: number;
  apiRead: Result;
  directRead: Result;
  apiReadSerial: Result;
  directReadSerial: Result;
  apiWrite: Result;
  directWrite: Result;
  directWriteGtid: Result;
  /** Eventual first: the others are shown relative to it. */
  strategies: Result[];
}

/** The table, then each comparison, the targets and the CPU-bound ceiling. */
export function report(c: Cases): void {
  console.log('');
  table([
    c.apiRead,
    c.directRead,
    c.apiReadSerial,
    c.directReadSerial,
    c.apiWrite,
    c.directWrite,
    c.directWriteGtid,
    ...c.strategies,
  ]);
  console.log('');
  compare(`read (eventual vs direct, ${c.connections} connections)`, c.apiRead, c.directRead);
  compare('read (eventual vs direct, 1 connection)', c.apiReadSerial, c.directReadSerial);
  compare('write (POST vs direct INSERT)', c.apiWrite, c.directWrite);
  compare('write (POST vs direct INSERT + GTID select)', c.apiWrite, c.directWriteGtid);
  const eventual = c.strategies[0] as Result;
  console.log(
    `strategy read throughput relative to eventual: ${c.strategies.map((s) => `${s.label.replace(/.*\((.*)\)/, '$1')} ${fmt(s.rps / eventual.rps)}×`).join(', ')}`,
  );
  const { apiRead, directRead } = c;
  console.log(
    `targets: API read throughput ≥ 0.70× direct → ${fmt(apiRead.rps / directRead.rps)}× ${apiRead.rps / directRead.rps >= 0.7 ? 'met' : 'MISSED'}; ` +
      `p50 overhead ≤ 1 ms → ${fmt(apiRead.p50 - directRead.p50, 3)} ms ${apiRead.p50 - directRead.p50 <= 1 ? 'met' : 'MISSED'}`,
  );
  // When the machine is CPU-bound, throughput is at most cores / (CPU per request, all processes summed).
  const cpuTotal = (r: Result) => Object.values(r.cpu ?? {}).reduce((a, b) => a + b, 0);
  const loadGenCpu = apiRead.cpu?.client ?? 0;
  console.log(
    `CPU per read, all processes: API path ${fmt(cpuTotal(apiRead) * 1000, 0)} µs ` +
      `(load generator ${fmt(loadGenCpu * 1000, 0)}, API ${fmt((apiRead.cpu?.api ?? 0) * 1000, 0)}), ` +
      `direct ${fmt(cpuTotal(directRead) * 1000, 0)} µs → CPU-bound ceiling of API/direct ≈ ${fmt(cpuTotal(directRead) / cpuTotal(apiRead))}× ` +
      `(${fmt(cpuTotal(directRead) / (cpuTotal(apiRead) - loadGenCpu))}× if the load generator ran on another machine)`,
  );
}
