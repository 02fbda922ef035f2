/**
 * What the token pattern (schemas.ts) cannot say: the numbers in a consistency token must be in the ranges the
 * server accepts, so a token the server would refuse to parse is a 400, not a 500 from inside the GTID wait.
 * Both notations are accepted whatever the API's flavour; each flavour's ranges live in common/dialect.ts.
 */
import { DIALECTS, gtidFlavor } from '../../common/dialect.ts';

/** Why the (pattern-valid) token is out of range, or undefined when the server will accept it. */
export function tokenProblem(token: string): string | undefined {
  return DIALECTS[gtidFlavor(token)].gtidRangeProblem(token);
}

/** Name of the Ajv format (registered in app.ts) that the token header's schema uses. */
export const CONSISTENCY_TOKEN_FORMAT = 'consistency-token';

/** Ajv format: the token pattern is checked by `pattern`, the ranges here. */
export const consistencyTokenFormat = {
  type: 'string' as const,
  validate: (token: string) => tokenProblem(token) === undefined,
};
