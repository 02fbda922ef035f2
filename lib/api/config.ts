/**
 * The API scenarios' own variables, on top of lib/config.ts (which has CQRS_API_URL, rates, profiles and
 * CQRS_READ_RATIO but no strategy choice for the API). Same error shape as lib/config.ts. Runtime-neutral.
 */
import { isStrategy, STRATEGIES, type Strategy } from '../../common/strategies.ts';
import { ConfigError } from '../config.ts';

/** What the API can run against the local MariaDB stack; gr-before/router-split need MySQL servers. */
export const DEFAULT_API_STRATEGIES: readonly Strategy[] = [
  'eventual',
  'primary',
  'gtid-wait',
  'sticky',
  'cache',
];

export interface ApiScenarioConfig {
  /** api-read-after-write: one k6 scenario per strategy, in this order. */
  readonly strategies: readonly Strategy[];
  /** api-mixed and api-seed-compat: the strategy every read uses. */
  readonly strategy: Strategy;
}

export const API_SCENARIO_VARS = {
  strategies: {
    name: 'CQRS_API_STRATEGIES',
    default: DEFAULT_API_STRATEGIES.join(','),
    help: 'Strategies api-read-after-write compares, comma-separated',
  },
  strategy: {
    name: 'CQRS_API_STRATEGY',
    default: 'eventual',
    help: 'Read strategy of api-mixed and api-seed-compat',
  },
} as const;

const expectedOne = `one of ${STRATEGIES.join('|')}`;

export function loadApiScenarioConfig(env: Readonly<Record<string, string | undefined>>): ApiScenarioConfig {
  const rawList = (env[API_SCENARIO_VARS.strategies.name] ?? API_SCENARIO_VARS.strategies.default).trim();
  const list = rawList.split(',').map((s) => s.trim());
  const bad = list.find((s) => !isStrategy(s));
  if (bad !== undefined || new Set(list).size !== list.length) {
    throw new ConfigError(
      `invalid ${API_SCENARIO_VARS.strategies.name}; reason: expected distinct strategies (${expectedOne}) ` +
        `separated by commas, got ${JSON.stringify(rawList)}`,
    );
  }
  const one = (env[API_SCENARIO_VARS.strategy.name] ?? API_SCENARIO_VARS.strategy.default).trim();
  if (!isStrategy(one)) {
    throw new ConfigError(
      `invalid ${API_SCENARIO_VARS.strategy.name}; reason: expected ${expectedOne}, got ${JSON.stringify(one)}`,
    );
  }
  return { strategies: list as Strategy[], strategy: one };
}

export function describeApiScenarioConfig(c: ApiScenarioConfig): string[] {
  return [
    `${API_SCENARIO_VARS.strategies.name}=${c.strategies.join(',')}`,
    `${API_SCENARIO_VARS.strategy.name}=${c.strategy}`,
  ];
}
