/**
 * What the token pattern (schemas.ts) cannot say: the numbers in a consistency token must be in the ranges the
 * server accepts, so a token the server would refuse to parse is a 400, not a 500 from inside the GTID wait.
 *
 * MariaDB `domain-server-seq`: domain and server id are 32-bit unsigned, seq_no 64-bit unsigned, and a list
 * holds each domain at most once. MySQL `uuid:interval…`: transaction numbers are 1 … 2^63-1 and an interval's
 * end is not below its start.
 */
const UINT32_MAX = 2n ** 32n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const GNO_MAX = 2n ** 63n - 1n;

/** Why the (pattern-valid) token is out of range, or undefined when the server will accept it. */
export function tokenProblem(token: string): string | undefined {
  try {
    return token.includes(':') ? mysqlProblem(token) : mariadbProblem(token);
  } catch {
    // BigInt() of something that is not a number: the pattern rejects it too.
    return 'not a GTID';
  }
}

function mariadbProblem(token: string): string | undefined {
  const domains = new Set<bigint>();
  for (const gtid of token.split(',')) {
    const [domain, server, seq] = gtid.split('-').map(BigInt) as [bigint, bigint, bigint];
    if (domain > UINT32_MAX) return `domain id of ${gtid} is over 2^32-1`;
    if (server > UINT32_MAX) return `server id of ${gtid} is over 2^32-1`;
    if (seq > UINT64_MAX) return `sequence number of ${gtid} is over 2^64-1`;
    if (domains.has(domain)) return `domain ${domain} appears twice`;
    domains.add(domain);
  }
  return undefined;
}

function mysqlProblem(token: string): string | undefined {
  for (const uuidSet of token.split(',')) {
    for (const part of uuidSet.split(':').slice(1)) {
      if (!/^\d/.test(part)) continue; // a tag
      const [start, end = start] = part.split('-').map(BigInt) as [bigint, bigint?];
      if (start < 1n || end > GNO_MAX) return `interval ${part} is outside 1 … 2^63-1`;
      if (end < start) return `interval ${part} ends before it starts`;
    }
  }
  return undefined;
}

/** Name of the Ajv format (registered in app.ts) that the token header's schema uses. */
export const CONSISTENCY_TOKEN_FORMAT = 'consistency-token';

/** Ajv format: the token pattern is checked by `pattern`, the ranges here. */
export const consistencyTokenFormat = {
  type: 'string' as const,
  validate: (token: string) => tokenProblem(token) === undefined,
};
