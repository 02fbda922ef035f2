/** HTTP load from wrk (C, a child process), driven by a generated Lua script that prints one result line. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emailPrefix, type LoadRun, type RequestSpec } from './requests.ts';
import type { Result } from './result.ts';

const lua = (s: string) => JSON.stringify(s); // a JSON string literal is a valid Lua string literal here

/** The Lua script for one wrk run: request generation (ids drawn up front) and a one-line result. */
export function wrkScript(spec: RequestSpec): string {
  const headers = `{ ${Object.entries(spec.headers)
    .map(([k, v]) => `[${lua(k)}] = ${lua(v)}`)
    .join(', ')} }`;
  const request =
    spec.method === 'GET'
      ? `local ids = {}
for i = 1, 8192 do ids[i] = ${lua(spec.pathPrefix)} .. math.random(1, ${spec.randomIdUpTo}) end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", ids[(n % 8192) + 1], headers)
end`
      : `local n = 0
local prefix = ${lua(`{"email":"${emailPrefix(spec.emailTag)}-`)}
request = function()
  n = n + 1
  return wrk.format("POST", ${lua(spec.path)}, headers, prefix .. n .. '@example.test","name":"bench"}')
end`;
  return `math.randomseed(os.time())
local headers = ${headers}
${request}
done = function(summary, latency, requests)
  local e = summary.errors
  io.stdout:write(string.format("WRK_RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
`;
}

/** One thread: wrk's event loop is far cheaper than what it drives, and a second thread would take a core. */
export async function wrk({ label, url, spec, seconds, connections }: LoadRun): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'cqrs-bench-wrk-'));
  try {
    const script = join(dir, 'bench.lua');
    writeFileSync(script, wrkScript(spec));
    const target = new URL(spec.method === 'GET' ? spec.pathPrefix : spec.path, url).href;
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
      execFile(
        'wrk',
        ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', script, target],
        (err, out, errOut) =>
          err
            ? reject(new Error(`wrk failed: ${errOut || err.message}`))
            : resolve({ stdout: out, stderr: errOut }),
      ),
    );
    const line = stdout.split('\n').find((l) => l.startsWith('WRK_RESULT '));
    if (!line) throw new Error(`wrk printed no result: ${stderr.trim() || stdout.trim()}`);
    const [requests, durationUs, p50Us, p99Us, badStatus, socketErrors] = line
      .split(' ')
      .slice(1)
      .map(Number);
    const ok = (requests ?? 0) - (badStatus ?? 0);
    return {
      label,
      rps: ok / ((durationUs ?? 1) / 1e6),
      p50: (p50Us ?? 0) / 1000,
      p99: (p99Us ?? 0) / 1000,
      errors: (badStatus ?? 0) + (socketErrors ?? 0),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
