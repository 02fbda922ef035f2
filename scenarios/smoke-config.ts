/**
 * Config smoke check: validates every CQRS_* variable and prints the resolved (redacted) config. It opens no
 * database, so it runs on a plain k6 without extensions; a bad variable fails init with a one-line error.
 */
import { check } from 'k6';
import { CONFIG_SCHEMA, configPasswords, describeConfig, loadConfig } from '../lib/config.ts';
import { loadOrFail } from '../lib/k6/init-error.ts';

const config = loadOrFail(() => loadConfig(__ENV));

export const options = { vus: 1, iterations: 1, thresholds: { checks: ['rate>=1'] } };

export default function (): void {
  const lines = describeConfig(config);
  console.log(lines.join('\n'));
  check(lines, {
    'every variable resolved': (l) => l.length === Object.keys(CONFIG_SCHEMA).length,
    'no password in the output': (l) => !configPasswords(config).some((pw) => l.some((x) => x.includes(pw))),
  });
}
