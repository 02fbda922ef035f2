/**
 * The CQRS API over k6/http: one call per endpoint, each timed and counted in the registry's api_* metrics,
 * tagged with the strategy (and the X-Read-Source of reads). URLs are grouped under a `name` tag so k6's
 * http_req_* series do not get one entry per user id.
 */
import http, { type RefinedResponse } from 'k6/http';
import type { ReadSource, Strategy } from '../../common/strategies.ts';
import { METRICS } from '../k6/metrics.ts';

export interface Created {
  readonly id: number;
  /** The write's GTID (X-Consistency-Token), if the API returned one. */
  readonly token: string | undefined;
}

export interface ReadResult {
  readonly found: boolean;
  readonly source: ReadSource | undefined;
}

/** Thrown for an answer the scenario cannot interpret (5xx, unexpected status): k6 logs it, the iteration ends. */
export class ApiCallError extends Error {
  override name = 'ApiCallError';
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const readStatuses = http.expectedStatuses(200, 404);

function header(res: RefinedResponse<'text'>, name: string): string | undefined {
  // k6 canonicalises header names (X-Read-Source).
  const v = res.headers[name];
  return v === undefined || v === '' ? undefined : v;
}

export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    /** Sent as X-Client-Id, so `sticky` knows this VU's writes. */
    private readonly clientId: string,
  ) {}

  createUser(email: string, name: string, strategy: Strategy): Created {
    const res = http.post(`${this.baseUrl}/users`, JSON.stringify({ email, name }), {
      headers: { ...JSON_HEADERS, 'X-Client-Id': this.clientId, 'X-Read-Consistency': strategy },
      tags: { name: 'POST /users', strategy },
    });
    METRICS.apiWriteDuration.add(res.timings.duration, { strategy });
    if (res.status !== 201) this.fail('POST /users', strategy, res);
    const body = res.json() as { id?: unknown };
    return { id: Number(body.id), token: header(res, 'X-Consistency-Token') };
  }

  /** GET /users/:id through `strategy`; `client` reads count as client reads (offload), polls do not. */
  readUser(id: number, strategy: Strategy, token: string | undefined, client: boolean): ReadResult {
    const headers: Record<string, string> = { 'X-Client-Id': this.clientId, 'X-Read-Consistency': strategy };
    if (token) headers['X-Consistency-Token'] = token;
    const res = http.get(`${this.baseUrl}/users/${id}`, {
      headers,
      tags: { name: 'GET /users/:id', strategy },
      responseCallback: readStatuses,
    });
    if (res.status !== 200 && res.status !== 404) this.fail('GET /users/:id', strategy, res);
    const source = header(res, 'X-Read-Source') as ReadSource | undefined;
    if (client) {
      METRICS.apiReadDuration.add(res.timings.duration, { strategy });
      METRICS.apiReads.add(1, { strategy, source: source ?? 'unknown' });
    }
    return { found: res.status === 200, source };
  }

  /** GET /get: create-then-read inside the API; the number of users returned (0 is a stale read). */
  compat(strategy: Strategy): { users: number; source: ReadSource | undefined } {
    const res = http.get(`${this.baseUrl}/get`, {
      headers: { 'X-Client-Id': this.clientId, 'X-Read-Consistency': strategy },
      tags: { name: 'GET /get', strategy },
    });
    if (res.status !== 200) this.fail('GET /get', strategy, res);
    METRICS.apiReadDuration.add(res.timings.duration, { strategy });
    const source = header(res, 'X-Read-Source') as ReadSource | undefined;
    METRICS.apiReads.add(1, { strategy, source: source ?? 'unknown' });
    return { users: (res.json() as unknown[]).length, source };
  }

  private fail(route: string, strategy: Strategy, res: RefinedResponse<'text'>): never {
    METRICS.apiErrors.add(1, { strategy, route });
    const body = typeof res.body === 'string' ? res.body.slice(0, 200) : '';
    throw new ApiCallError(`${route} (${strategy}) answered ${res.status || res.error}: ${body}`);
  }
}
