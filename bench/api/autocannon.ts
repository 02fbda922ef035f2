/** HTTP load from autocannon (Node, in this process), latencies from its per-response timings. */
import autocannon from 'autocannon';
import type { LoadRun } from './requests.ts';
import { freshEmail, randomId, userBody } from './requests.ts';
import { newHistogram, type Result, summarise } from './result.ts';

export async function autocannonRun({ label, url, spec, seconds, connections }: LoadRun): Promise<Result> {
  const request = () =>
    spec.method === 'GET'
      ? {
          method: spec.method,
          path: `${spec.pathPrefix}${randomId(spec.randomIdUpTo)}`,
          headers: spec.headers,
        }
      : {
          method: spec.method,
          path: spec.path,
          headers: spec.headers,
          body: userBody(freshEmail(spec.emailTag)),
        };
  const h = newHistogram();
  let ok = 0;
  let errors = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        duration: seconds,
        requests: [{ setupRequest: (req) => ({ ...req, ...request() }) }],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) {
        ok += 1;
        h.record(Math.max(1, Math.round(ms * 1000)));
      } else errors += 1;
    });
  });
  return summarise(label, h, ok, result.duration, errors + result.errors + result.timeouts);
}
