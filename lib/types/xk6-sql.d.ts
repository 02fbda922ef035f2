/**
 * Typings for xk6-sql v1.2 (`k6/x/sql`) and its MySQL driver v0.4 (`k6/x/sql/driver/mysql`). xk6-sql ships
 * its own index.d.ts outside npm and the driver ships none; the DefinitelyTyped `k6/x/sql` typings describe
 * the old string-driver API, so these are written from the v1.2 documentation.
 */
declare module 'k6/x/sql' {
  /** Pool options of `open` (durations are Go duration strings such as "30s"). */
  export interface OpenOptions {
    conn_max_idle_time?: string;
    conn_max_lifetime?: string;
    /** Default 2. */
    max_idle_conns?: number;
    /** Default 0: unlimited. */
    max_open_conns?: number;
  }

  export interface Result {
    lastInsertId(): number;
    rowsAffected(): number;
  }

  /** One row: a property per column. Text columns may arrive as byte arrays (decode them in lib/decode.ts). */
  export interface Row {
    [column: string]: unknown;
  }

  /** A pool of connections; every call blocks the VU. */
  export interface Database {
    exec(query: string, ...args: unknown[]): Result;
    query(query: string, ...args: unknown[]): Row[];
    execWithTimeout(timeout: string, query: string, ...args: unknown[]): Result;
    queryWithTimeout(timeout: string, query: string, ...args: unknown[]): Row[];
    close(): void;
  }

  /** `driver` is the Symbol default-exported by a driver module. */
  export function open(driver: symbol, dataSourceName: string, options?: OpenOptions): Database;

  const sql: { open: typeof open };
  export default sql;
}

declare module 'k6/x/sql/driver/mysql' {
  /** Driver identifier Symbol for `sql.open`. */
  const driver: symbol;
  export default driver;

  export interface TLSConfig {
    enableTLS?: boolean;
    insecureSkipTLSverify?: boolean;
    minVersion?: string;
    caCertFile?: string;
    clientCertFile?: string;
    clientKeyFile?: string;
  }
  export function loadTLS(config: TLSConfig): void;
  /** Returns the DSN with the TLS config registered by `loadTLS` attached. */
  export function addTLS(dsn: string): string;
}
