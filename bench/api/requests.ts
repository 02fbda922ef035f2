/**
 * One kind of HTTP request, as data, so both load generators can build it: autocannon from JS, wrk from a
 * generated Lua script. GETs pick a random seeded id; POSTs send a fresh email each time.
 */
export type RequestSpec =
  | { method: 'GET'; pathPrefix: string; randomIdUpTo: number; headers: Record<string, string> }
  | { method: 'POST'; path: string; emailTag: string; headers: Record<string, string> };

/** One load run: `spec` sent to `url` over `connections` keep-alive connections for `seconds`. */
export interface LoadRun {
  readonly label: string;
  readonly url: string;
  readonly spec: RequestSpec;
  readonly seconds: number;
  readonly connections: number;
}

export const userBody = (email: string) => JSON.stringify({ email, name: 'bench' });

/** 1..upTo: the seeded users' ids. */
export const randomId = (upTo: number) => 1 + Math.floor(Math.random() * upTo);

let emailSeq = 0;
/** Unique within this process, and across runs (pid and time): every POST creates a new user. */
export const emailPrefix = (tag: string) => `bench-${tag}-${process.pid}-${Date.now()}-${emailSeq++}`;
export const freshEmail = (tag: string) => `${emailPrefix(tag)}@example.test`;
