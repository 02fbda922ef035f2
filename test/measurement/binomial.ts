/**
 * Binomial tails, for the sample sizes of the measurement tests: how often a share claim that holds (the true
 * rate of misses is q) still fails on a finite sample, because the sample drew more misses than the claim
 * allows.
 */

/** P(X > k) for X ~ Binomial(n, p), exact up to floating point (the terms are summed in log space). */
export function binomialTailAbove(n: number, p: number, k: number): number {
  if (k < 0) return 1;
  if (k >= n) return 0;
  const logP = Math.log(p);
  const logQ = Math.log1p(-p);
  let logChoose = 0; // log C(n, 0)
  let atMost = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logChoose += Math.log(n - i + 1) - Math.log(i);
    atMost += Math.exp(logChoose + i * logP + (n - i) * logQ);
  }
  return Math.max(0, 1 - atMost);
}

/**
 * How often a sample of `n` fails "at least `share` of the samples are good" when each sample is bad with
 * probability `missRate`: more bad samples than the share leaves room for.
 */
export function shareFailureProbability(n: number, share: number, missRate: number): number {
  const allowedMisses = n - Math.ceil(share * n - 1e-9);
  return binomialTailAbove(n, missRate, allowedMisses);
}

/**
 * How often the sample median (the test's `median`: the element at index ⌊n/2⌋ of the sorted sample) lies
 * above a bound that a share `goodRate` of all values is at or below: when at most ⌊n/2⌋ samples are.
 */
export function medianFailureProbability(n: number, goodRate: number): number {
  // median > bound ⇔ #(x ≤ bound) ≤ ⌊n/2⌋ ⇔ #(x > bound) > n − ⌊n/2⌋ − 1
  return binomialTailAbove(n, 1 - goodRate, n - Math.floor(n / 2) - 1);
}
