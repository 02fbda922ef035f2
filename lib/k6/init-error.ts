/**
 * Config errors as one clean line. k6 prints an Error thrown in init code with its JS stack trace appended to
 * the message; a thrown value that is not an Error it prints as String(value) alone, and still exits 107
 * (ScriptException; checked with k6 v2.2.0 and v1.1.0). So init code turns a ConfigError into an InitFailure.
 * Runtime-neutral.
 */
import { ConfigError } from '../../common/config-error.ts';

/** Deliberately not an Error: no stack. `message` and `name` keep it readable to code that catches it. */
export class InitFailure {
  readonly name = 'ConfigError';
  constructor(readonly message: string) {}
  toString(): string {
    return this.message;
  }
}

/** Runs a config loader in init code; a ConfigError leaves as an InitFailure, anything else as it was. */
export function loadOrFail<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) throw new InitFailure(err.message);
    throw err;
  }
}
