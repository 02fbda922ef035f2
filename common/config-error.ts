/**
 * The one error for bad configuration, k6 side and Node side alike. Its message is one line in one shape,
 * `invalid NAME; reason: expected …, got …`, ready to print without a stack trace (the k6 harness exits 107
 * with it, Node commands exit 1). Runtime-neutral: no imports.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';

  /** `got` is shown as given (callers redact secrets first); omit it when there is nothing to show. */
  static invalid(name: string, expected: string, got?: string): ConfigError {
    const tail = got === undefined ? '' : `, got ${JSON.stringify(got)}`;
    return new ConfigError(`invalid ${name}; reason: expected ${expected}${tail}`);
  }
}
