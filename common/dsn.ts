/**
 * Connection strings as users give them: Go MySQL driver DSNs (`user:pass@tcp(host:port)/db?params`, the form
 * xk6-sql takes) and URLs (`mysql://user:pass@host/db`, `redis://:pass@host`). One redactor for both, used
 * wherever one is shown: k6 config errors and descriptions, API config errors, stack logs. Runtime-neutral.
 */
export interface GoDsn {
  user: string;
  password: string;
  host: string;
  port: number;
  database: string;
  params: string;
}

const MASK = '***';
const URL_SCHEME = /^([a-z][a-z0-9+.-]*:\/\/)/i;
/** What follows the user info of a DSN when it is recognisably an address: `tcp(`, `unix(`, or `/db`. */
const GO_ADDRESS = /^(?:[a-z]+\(|\/)/i;
/** Query parameters that carry a password in some drivers' URLs. */
const PASSWORD_PARAM = /([?&;](?:password|passwd|pwd|pass)=)[^&;#]*/gi;

/**
 * Parses as the Go driver does (go-sql-driver/mysql ParseDSN): the last '/' starts the database, the last '@'
 * before it ends the user info, and the first ':' of that splits user from password. So a password may hold
 * '@', '/' and ':'. Only `tcp(host:port)` addresses with a user are accepted: that is what the scenarios reach.
 */
export function parseGoDsn(dsn: string): GoDsn | null {
  const slash = dsn.lastIndexOf('/');
  if (slash < 0) return null;
  const at = dsn.lastIndexOf('@', slash);
  if (at <= 0) return null;
  const info = dsn.slice(0, at);
  const colon = info.indexOf(':');
  const user = colon < 0 ? info : info.slice(0, colon);
  // Greedy host: the last ':' splits the port, so `[::1]:3306` parses.
  const addr = /^tcp\(([^()]+):(\d{1,5})\)$/.exec(dsn.slice(at + 1, slash));
  if (user === '' || !addr) return null;
  const port = Number(addr[2]);
  if (port < 1 || port > 65535) return null;
  const tail = dsn.slice(slash + 1);
  const q = tail.indexOf('?');
  return {
    user,
    password: colon < 0 ? '' : info.slice(colon + 1),
    host: addr[1] as string,
    port,
    database: q < 0 ? tail : tail.slice(0, q),
    params: q < 0 ? '' : tail.slice(q + 1),
  };
}

/**
 * `dsn` with `params` (`a=1&b=%27x%27`, already URL-encoded) added to its query: after `?` when it has none,
 * else after `&`. As ParseDSN reads it, the query starts at the first '?' after the last '/' (a password may
 * hold '?'). The driver keeps the last value of a repeated parameter, so an added one wins over the user's.
 */
export function withGoDsnParams(dsn: string, params: string): string {
  if (params === '') return dsn;
  const tail = dsn.slice(dsn.lastIndexOf('/') + 1);
  if (!tail.includes('?')) return `${dsn}?${params}`;
  return /[?&]$/.test(tail) ? `${dsn}${params}` : `${dsn}&${params}`;
}

/** A parsed DSN written back; the password as given (`redact` passes the mask). */
function formatGoDsn(d: GoDsn): string {
  const pass = d.password === '' ? '' : `:${d.password}`;
  return `${d.user}${pass}@tcp(${d.host}:${d.port})/${d.database}${d.params ? `?${d.params}` : ''}`;
}

/**
 * The value with every password replaced by `***`, safe for logs, errors and reports. Exact for a DSN that
 * parses; otherwise conservative: a URL keeps its scheme, user and what follows the last '@' (a user info
 * without ':' may be a bare token, so it is masked whole; without '@', only a numeric port may follow ':');
 * anything else keeps only its user and, after the last '@', a recognisable address. Over-masking a malformed
 * value is fine; printing part of a password is not.
 */
export function redact(value: string): string {
  const scheme = URL_SCHEME.exec(value)?.[1];
  const d = scheme ? null : parseGoDsn(value);
  let out: string;
  if (scheme) out = redactUrl(value, scheme);
  else if (d) out = formatGoDsn(d.password === '' ? d : { ...d, password: MASK });
  else out = redactLoose(value);
  return out.replace(PASSWORD_PARAM, `$1${MASK}`);
}

function redactUrl(value: string, scheme: string): string {
  const rest = value.slice(scheme.length);
  const at = rest.lastIndexOf('@');
  if (at < 0) {
    // No user info, so ':' in the authority must start a port; anything else is a `user:password` cut short.
    const authority = rest.split(/[/?#]/, 1)[0] ?? '';
    const colon = rest.indexOf(':');
    return /^(\[[^\]]*\]|[^:]*)(:\d*)?$/.test(authority) ? value : `${scheme}${rest.slice(0, colon)}:${MASK}`;
  }
  const info = rest.slice(0, at);
  const colon = info.indexOf(':');
  const shown = colon < 0 ? MASK : `${info.slice(0, colon)}:${MASK}`;
  return `${scheme}${shown}${rest.slice(at)}`;
}

function redactLoose(value: string): string {
  const at = value.lastIndexOf('@');
  if (at < 0) {
    // No '@': a bare address like tcp(h:1)/db is kept; otherwise what follows the first ':' may be a password.
    const colon = value.indexOf(':');
    return colon < 0 || /^[a-z]+\([^()@]*\)/i.test(value) ? value : `${value.slice(0, colon)}:${MASK}`;
  }
  const info = value.slice(0, at);
  const colon = info.indexOf(':');
  const user = colon < 0 ? info : `${info.slice(0, colon)}:${MASK}`;
  const tail = value.slice(at + 1);
  return `${user}@${GO_ADDRESS.test(tail) ? tail : MASK}`;
}

/** The password a DSN or URL carries ('' when none), as `redact` would hide it; for output checks. */
export function passwordOf(value: string): string {
  const scheme = URL_SCHEME.exec(value)?.[1];
  if (!scheme) return parseGoDsn(value)?.password ?? '';
  const rest = value.slice(scheme.length);
  const info = rest.slice(0, Math.max(0, rest.lastIndexOf('@')));
  const colon = info.indexOf(':');
  return colon < 0 ? info : info.slice(colon + 1);
}
