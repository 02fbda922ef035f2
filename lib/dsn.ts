/**
 * Go MySQL driver DSNs (`user:pass@tcp(host:port)/db?params`), the form xk6-sql takes. Parsed only to validate
 * the config and to print an endpoint without its password.
 */
export interface GoDsn {
  user: string;
  password: string;
  host: string;
  port: number;
  database: string;
  params: string;
}

const GO_DSN = /^([^:@/]+)(?::([^@]*))?@tcp\(([^:()]+):(\d{1,5})\)\/([^?/]*)(?:\?(.*))?$/;

export function parseGoDsn(dsn: string): GoDsn | null {
  const m = GO_DSN.exec(dsn);
  if (!m) return null;
  const port = Number(m[4]);
  if (port < 1 || port > 65535) return null;
  return {
    user: m[1] as string,
    password: m[2] ?? '',
    host: m[3] as string,
    port,
    database: m[5] as string,
    params: m[6] ?? '',
  };
}

/** The DSN with the password replaced, safe for logs and reports. */
export function redactDsn(dsn: string): string {
  const d = parseGoDsn(dsn);
  // Unparseable: still hide whatever sits between the first ':' and the last '@', where a password would be.
  if (!d) return dsn.replace(/^([^:@/]*):[^@]*@/, '$1:***@');
  const pass = d.password === '' ? '' : ':***';
  return `${d.user}${pass}@tcp(${d.host}:${d.port})/${d.database}${d.params ? `?${d.params}` : ''}`;
}
