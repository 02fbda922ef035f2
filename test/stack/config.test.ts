/** loadStackConfig over the stack's sections of the Node-side table (config/stack.ts); no servers. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../common/config-error.ts';
import { STACK_DEFAULT_USERS } from '../../common/stack-credentials.ts';
import { STACK_DEFAULT_PORTS } from '../../common/stack-defaults.ts';
import { loadStackConfig, PROJECT_ROOT, portEnvName } from '../../stack/config.ts';

describe('stack config', () => {
  it('defaults to the documented ports, accounts and state folder', () => {
    const cfg = loadStackConfig({});
    expect(cfg.ports).toEqual(STACK_DEFAULT_PORTS);
    expect(cfg.users.writer).toEqual(STACK_DEFAULT_USERS.writer);
    expect(cfg.stateDir).toBe(join(PROJECT_ROOT, '.stack'));
    expect(cfg).toMatchObject({ withApi: true, readyTimeoutMs: 30_000 });
  });

  it('reads one variable per port and per account, and the flags', () => {
    expect(portEnvName('delayProxyControl')).toBe('CQRS_STACK_PORT_DELAY_PROXY_CONTROL');
    const cfg = loadStackConfig({
      CQRS_STACK_PORT_DELAY_PROXY_CONTROL: '40009',
      CQRS_STACK_MONITOR_PASSWORD: 'Mon1tor-pw',
      CQRS_STACK_API: '0',
      CQRS_STACK_READY_TIMEOUT_MS: '5000',
    });
    expect(cfg.ports.delayProxyControl).toBe(40009);
    expect(cfg.users.monitor).toEqual({ user: 'monitor', password: 'Mon1tor-pw' });
    expect(cfg).toMatchObject({ withApi: false, readyTimeoutMs: 5000 });
  });

  it('refuses bad values in the one shape, and never shows a password', () => {
    expect(() => loadStackConfig({ CQRS_STACK_PORT_REDIS: '80' })).toThrow(
      new ConfigError('invalid CQRS_STACK_PORT_REDIS; reason: expected a port 1024-65535, got "80"'),
    );
    expect(() => loadStackConfig({ CQRS_STACK_API: 'no' })).toThrow(
      'invalid CQRS_STACK_API; reason: expected one of 0|1, got "no"',
    );
    expect(() => loadStackConfig({ CQRS_STACK_READY_TIMEOUT_MS: '10' })).toThrow(
      'invalid CQRS_STACK_READY_TIMEOUT_MS; reason: expected an integer in 1000..600000 (ms), got "10"',
    );
    expect(() => loadStackConfig({ CQRS_STACK_REPL_PASSWORD: "it's-secret" })).toThrow(
      new ConfigError(
        'invalid CQRS_STACK_REPL_PASSWORD; reason: expected 1-64 printable characters without quotes, \\ @ : /',
      ),
    );
  });

  it('checks ports given in code as if they came from their variables', () => {
    expect(() => loadStackConfig({}, { ports: { api: 80 } })).toThrow(/^invalid CQRS_STACK_PORT_API; /);
    expect(() => loadStackConfig({}, { ports: { api: STACK_DEFAULT_PORTS.redis } })).toThrow(
      `invalid CQRS_STACK_PORT_API; reason: expected a port no other service has (CQRS_STACK_PORT_REDIS is ${STACK_DEFAULT_PORTS.redis} too), got "${STACK_DEFAULT_PORTS.redis}"`,
    );
    // An override wins over its variable, even a bad one, as it always has.
    expect(loadStackConfig({ CQRS_STACK_PORT_API: 'x' }, { ports: { api: 40080 } }).ports.api).toBe(40080);
  });
});
