/**
 * Requests to the stack's own control endpoints (the delay proxy's PUT /delay), made to survive a stale
 * kept-alive connection.
 *
 * fetch (undici) keeps an idle connection for the next request, and the server closes it after its keep-alive
 * (Node's http server: 5 s). When this process's event loop is blocked past that (a measurement test's
 * blocking clock, a long synchronous loop), the server's close is never read: the next request goes out on
 * the dead socket and fails with "other side closed" (UND_ERR_SOCKET) or a reset, although the server is up.
 * By then the dead socket is gone, so one retry goes out on a new connection. Only failures at the connection
 * level are retried, and only once: a refused connection (nothing listening), a timeout or any HTTP answer is
 * returned or thrown as is. Only for idempotent requests: a PUT that did arrive, applied twice, is the same PUT.
 */

/** What undici reports, in a fetch error's `cause`, when a reused connection turns out to be closed. */
const STALE_CONNECTION_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

/** Whether `err` (a rejected fetch) is a connection closed under the request, rather than a server not there. */
export function isStaleConnectionError(err: unknown): boolean {
  const cause = (err as { cause?: unknown } | null)?.cause;
  if (typeof cause !== 'object' || cause === null) return false;
  const { code, message } = cause as { code?: unknown; message?: unknown };
  return (
    (typeof code === 'string' && STALE_CONNECTION_CODES.has(code)) ||
    (typeof message === 'string' && /other side closed/i.test(message))
  );
}

/**
 * PUTs `body` as JSON to `url`, retrying once if the connection proved stale (above). Resolves with the
 * answer whatever its status; rejects with fetch's error when the server cannot be reached.
 */
export async function putJson(
  url: string,
  body: unknown,
  fetchImpl: typeof fetch = fetch,
): Promise<Response> {
  const put = () =>
    fetchImpl(url, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  try {
    return await put();
  } catch (err) {
    if (!isStaleConnectionError(err)) throw err;
    return await put();
  }
}
