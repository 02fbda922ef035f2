// Sets the delay proxy's injected delay (PUT /delay, stack/delay-proxy.ts) from the k6 runner image, which has
// no curl and whose busybox wget cannot PUT: k6 is the HTTP client. A refused or failed PUT fails the check,
// and the threshold makes k6 exit non-zero. Used by experiment.sh.
import { check } from 'k6';
import http from 'k6/http';

export const options = { vus: 1, iterations: 1, thresholds: { checks: ['rate>=1'] } };

export default function () {
  const res = http.put(
    `${__ENV.CQRS_DELAY_CONTROL_URL}/delay`,
    JSON.stringify({ delayMs: Number(__ENV.CQRS_DELAY_MS) }),
    { headers: { 'content-type': 'application/json' } },
  );
  check(res, { 'delay set': (r) => r.status === 200 });
}
