/**
 * Which HTTP load generator drives the API side: wrk (Debian package `wrk`, C, one thread) when it is
 * installed, else autocannon (Node). Everything shares the machine's cores, so the generator's own CPU is
 * taken from the API side: wrk costs a fraction of autocannon's, which is why it is preferred.
 */
import { which } from '../../stack/binaries.ts';
import { autocannonRun } from './autocannon.ts';
import type { LoadRun } from './requests.ts';
import type { Result } from './result.ts';
import { wrk } from './wrk.ts';

export type LoadGen = 'wrk' | 'autocannon';

/** `wanted` is CQRS_BENCH_LOADGEN (config/bench.ts); unset, wrk if it is on PATH. */
export function chooseLoadGen(wanted: LoadGen | undefined): LoadGen {
  if (wanted === 'autocannon') return 'autocannon';
  if (which('wrk')) return 'wrk';
  if (wanted === 'wrk')
    throw new Error(
      'CQRS_BENCH_LOADGEN=wrk, but wrk is not on PATH (Debian package wrk: apt-get install -y wrk)',
    );
  console.log(
    'wrk not found (Debian package: wrk); using autocannon, which costs the API side more client CPU',
  );
  return 'autocannon';
}

/** HTTP load over `connections` concurrent keep-alive connections. */
export function httpLoad(gen: LoadGen, run: LoadRun): Promise<Result> {
  return gen === 'wrk' ? wrk(run) : autocannonRun(run);
}
