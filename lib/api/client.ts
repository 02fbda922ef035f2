/**
 * The CQRS API over k6/http: one call per endpoint, each timed and counted in the registry's api_* metrics,
 * tagged with the strategy (and the X-Read-Source of reads). URLs are grouped under a `name` tag so k6's
 * http_req_* series do not get one entry per user id. The ledger calls (POST/GET /probe-acks) are what lets the
 * API scenarios run on a stock k6: no SQL on the k6 side.
 */
import http, { type RefinedResponse } from 'k6/http';
import type { ReadSource, Strategy } from '../../common/strategies.ts';
import type { Visibility } from '../../common/visibility.ts';
import type { DecodedRow } from '../decode.ts';
import { METRICS } from '../k6/metrics.ts';
import { CHECK_TIMEOUT } from '../k6/preflight.ts';
import type { Endpoint, RunScope } from '../store.ts';
import { parseVisibility, VISIBILITY_RESPONSE_HEADERS } from './visibility.ts';

export interface Created {
  readonly id: number;
  /** The write's GTID (X-Consistency-Token), if the API returned one. */
  readonly token: string | undefined;
}

export interface ReadResult {
  readonly found: boolean;
  readonly source: ReadSource | undefined;
  /** From the X-Visibility-* headers of a read that found the user; undefined when they are absent. */
  readonly visibility: Visibility | undefined;
}

/** One acknowledged write as POST /probe-acks takes it (the run and runner are per request). */
export interface AckEntry {
  readonly vu: number;
  readonly seq: number;
}

/**
 * Thrown for an answer the scenario cannot interpret (5xx, unexpected status) or no answer at all; the
 * harness's iteration wrapper counts it by `kind` (lib/k6/failures.ts) and the iteration ends.
 */
export class ApiCallError extends Error {
  override name = 'ApiCallError';
  constructor(
    message: string,
    readonly kind: 'api-status' | 'api-unreachable' = 'api-status',
  ) {
    super(message);
  }
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const readStatuses = http.expectedStatuses(200, 404);

const ROUTES = {
  ackWrite: 'POST /probe-acks',
  ackReport: 'GET /probe-acks/:runId/:runner',
} as const;

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

  /** The setup check: GET /readyz answers 200 (the API and its writer are up); throws what it said. */
  ready(): void {
    let res: RefinedResponse<'text'>;
    try {
      res = http.get(`${this.baseUrl}/readyz`, { timeout: CHECK_TIMEOUT, tags: { name: 'GET /readyz' } });
    } catch (err) {
      throw new ApiCallError(`GET /readyz got no answer: ${errorText(err)}`, 'api-unreachable');
    }
    if (res.status === 200) return;
    if (res.status === 0)
      throw new ApiCallError(`GET /readyz got no answer: ${res.error}`, 'api-unreachable');
    throw new ApiCallError(`GET /readyz answered ${res.status}: ${readyzReason(res.body)}`);
  }

  createUser(email: string, name: string, strategy: Strategy): Created {
    const res = this.send('POST /users', { strategy }, () =>
      http.post(`${this.baseUrl}/users`, JSON.stringify({ email, name }), {
        headers: { ...JSON_HEADERS, 'X-Client-Id': this.clientId, 'X-Read-Consistency': strategy },
        tags: { name: 'POST /users', strategy },
      }),
    );
    METRICS.apiWriteDuration.add(res.timings.duration, { strategy });
    if (res.status !== 201) this.fail('POST /users', { strategy }, res);
    const body = res.json() as { id?: unknown };
    return { id: Number(body.id), token: header(res, 'X-Consistency-Token') };
  }

  /** GET /users/:id through `strategy`; `client` reads count as client reads (offload), polls do not. */
  readUser(id: number, strategy: Strategy, token: string | undefined, client: boolean): ReadResult {
    const headers: Record<string, string> = { 'X-Client-Id': this.clientId, 'X-Read-Consistency': strategy };
    if (token) headers['X-Consistency-Token'] = token;
    const res = this.send('GET /users/:id', { strategy }, () =>
      http.get(`${this.baseUrl}/users/${id}`, {
        headers,
        tags: { name: 'GET /users/:id', strategy },
        responseCallback: readStatuses,
      }),
    );
    if (res.status !== 200 && res.status !== 404) this.fail('GET /users/:id', { strategy }, res);
    const source = header(res, 'X-Read-Source') as ReadSource | undefined;
    if (client) {
      METRICS.apiReadDuration.add(res.timings.duration, { strategy });
      METRICS.apiReads.add(1, { strategy, source: source ?? 'unknown' });
    }
    const found = res.status === 200;
    const visibility = found
      ? parseVisibility(
          header(res, VISIBILITY_RESPONSE_HEADERS.lagUs),
          header(res, VISIBILITY_RESPONSE_HEADERS.basis),
        )
      : undefined;
    return { found, source, visibility };
  }

  /** GET /get: create-then-read inside the API; the number of users returned (0 is a stale read). */
  compat(strategy: Strategy): { users: number; source: ReadSource | undefined } {
    const res = this.send('GET /get', { strategy }, () =>
      http.get(`${this.baseUrl}/get`, {
        headers: { 'X-Client-Id': this.clientId, 'X-Read-Consistency': strategy },
        tags: { name: 'GET /get', strategy },
      }),
    );
    if (res.status !== 200) this.fail('GET /get', { strategy }, res);
    METRICS.apiReadDuration.add(res.timings.duration, { strategy });
    const source = header(res, 'X-Read-Source') as ReadSource | undefined;
    METRICS.apiReads.add(1, { strategy, source: source ?? 'unknown' });
    return { users: (res.json() as unknown[]).length, source };
  }

  /** POST /probe-acks: one batch of one run and runner into the ledger (idempotent on the API side). */
  writeAcks(scope: RunScope, acks: readonly AckEntry[]): void {
    const body = JSON.stringify({ runId: scope.runId, runner: scope.runner, acks });
    const res = this.send(ROUTES.ackWrite, {}, () =>
      http.post(`${this.baseUrl}/probe-acks`, body, {
        headers: JSON_HEADERS,
        tags: { name: ROUTES.ackWrite },
      }),
    );
    if (res.status !== 204) this.fail(ROUTES.ackWrite, {}, res);
  }

  /** GET /probe-acks/:runId/:runner: per VU, the run's acknowledgements on `endpoint` and how many lack a user. */
  ackReport(endpoint: Endpoint, scope: RunScope): DecodedRow[] {
    const path = `${encodeURIComponent(scope.runId)}/${encodeURIComponent(scope.runner)}`;
    const res = this.send(ROUTES.ackReport, {}, () =>
      http.get(`${this.baseUrl}/probe-acks/${path}?endpoint=${endpoint}`, {
        tags: { name: ROUTES.ackReport, endpoint },
      }),
    );
    if (res.status !== 200) this.fail(ROUTES.ackReport, {}, res);
    const body = res.json() as { vus?: { vu: number; acked: number; missing: number }[] };
    if (!Array.isArray(body.vus)) throw new ApiCallError(`${ROUTES.ackReport} answered without "vus"`);
    return body.vus;
  }

  /**
   * One request. The API harness sets k6's `throw` option, so a request that gets no answer throws here
   * (instead of k6 logging a "Request Failed" warning per request): counted and rethrown like a failed answer.
   */
  private send(
    route: string,
    tags: { strategy?: Strategy },
    request: () => RefinedResponse<'text'>,
  ): RefinedResponse<'text'> {
    try {
      return request();
    } catch (err) {
      METRICS.apiErrors.add(1, { ...tags, route });
      throw new ApiCallError(
        `${describeRoute(route, tags)} got no answer: ${errorText(err)}`,
        'api-unreachable',
      );
    }
  }

  private fail(route: string, tags: { strategy?: Strategy }, res: RefinedResponse<'text'>): never {
    METRICS.apiErrors.add(1, { ...tags, route });
    const what = describeRoute(route, tags);
    // Status 0: no answer, when k6's `throw` option is off.
    if (res.status === 0) throw new ApiCallError(`${what} got no answer: ${res.error}`, 'api-unreachable');
    const body = typeof res.body === 'string' ? res.body.slice(0, 200) : '';
    throw new ApiCallError(`${what} answered ${res.status}: ${body}`);
  }
}

const describeRoute = (route: string, tags: { strategy?: Strategy }) =>
  tags.strategy ? `${route} (${tags.strategy})` : route;

const errorText = (err: unknown): string =>
  typeof err === 'object' && err !== null && 'message' in err ? String(err.message) : String(err);

/** /readyz's body names what is not ready (`writer: {reachable: false, error}`); else its first 200 characters. */
export function readyzReason(body: unknown): string {
  const text = typeof body === 'string' ? body : '';
  try {
    const parsed = JSON.parse(text) as { writer?: { reachable?: boolean; error?: unknown } };
    if (parsed.writer?.reachable === false)
      return `its writer is unreachable: ${String(parsed.writer.error)}`;
  } catch {
    // Not JSON: shown as it came.
  }
  return text.slice(0, 200);
}
