/**
 * The API's visibility headers (common/visibility.ts) as the k6 side reads them. k6 canonicalises response
 * header names the Go way, so `x-visibility-lag-us` arrives as `X-Visibility-Lag-Us`. Runtime-neutral.
 */
import { isVisibilityBasis, VISIBILITY_HEADERS, type Visibility } from '../../common/visibility.ts';

/** Go's http.CanonicalHeaderKey for the lower-case names the API sends. */
export function canonicalHeader(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

export const VISIBILITY_RESPONSE_HEADERS = {
  lagUs: canonicalHeader(VISIBILITY_HEADERS.lagUs),
  basis: canonicalHeader(VISIBILITY_HEADERS.basis),
} as const;

/** Both headers, well-formed, or nothing: a half-reported visibility is not a measurement. */
export function parseVisibility(
  lagUs: string | undefined,
  basis: string | undefined,
): Visibility | undefined {
  if (lagUs === undefined || basis === undefined || !/^\d{1,15}$/.test(lagUs) || !isVisibilityBasis(basis))
    return undefined;
  return { lagUs: Number(lagUs), basis };
}
