/** The benchmarks' variables (bench/). Each benchmark reads the section when it starts, not when imported. */
import { z } from 'zod';
import { envVar, int, intExpected } from './env.ts';

export const BENCH_VARS = {
  seconds: envVar('CQRS_BENCH_SECONDS', int(1, 3600).default(5), intExpected(1, 3600), 'Seconds per case'),
  connections: envVar(
    'CQRS_BENCH_CONNECTIONS',
    int(1, 1000).default(10),
    intExpected(1, 1000),
    'Concurrent connections per case',
  ),
  /** Unset: wrk when it is on PATH, else autocannon (bench/api/load-gen.ts). */
  loadGen: envVar(
    'CQRS_BENCH_LOADGEN',
    z.enum(['wrk', 'autocannon']).optional(),
    'one of wrk|autocannon',
    'HTTP load generator of bench api',
  ),
  rounds: envVar('CQRS_BENCH_ROUNDS', int(1, 100).default(5), intExpected(1, 100), 'Rounds of bench stack'),
} as const;
