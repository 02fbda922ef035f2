/**
 * How the Node side reads its environment: a section is a table of variables (name, zod schema, the text that
 * completes an error, help), and `readEnv` validates one section and returns its values under the section's
 * keys, typed by the schemas. A consumer reads only its own sections, so a bad benchmark variable never stops
 * the API. The sections live beside this file, one per consumer; config/node.ts lists them all.
 */
import { z } from 'zod';
import { ConfigError } from '../common/config-error.ts';
import { redact } from '../common/dsn.ts';

export type Env = Readonly<Record<string, string | undefined>>;

export interface EnvVar<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  /** Parses the raw string; an unset (or empty) variable reaches it as undefined, so it holds the default. */
  readonly schema: S;
  /** Completes `invalid NAME; reason: expected …`. */
  readonly expected: string;
  readonly help: string;
  /** The value is never echoed in an error (a bare password has no shape `redact` could recognise). */
  readonly secret?: boolean;
}

export type EnvSection = Readonly<Record<string, EnvVar>>;

export type SectionValues<S extends EnvSection> = { readonly [K in keyof S]: z.output<S[K]['schema']> };

export function envVar<S extends z.ZodType>(
  name: string,
  schema: S,
  expected: string,
  help: string,
  opts: { secret?: boolean } = {},
): EnvVar<S> {
  return { name, schema, expected, help, ...opts };
}

// --- schemas shared by the sections ---------------------------------------------------------------------
/** A whole number in min..max, as the environment spells it. */
export const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
export const intExpected = (min: number, max: number) => `an integer in ${min}..${max}`;
/** `0` or `1`, as the k6 side's flags are; read as a boolean. */
export const flag = (def: '0' | '1') =>
  z
    .enum(['0', '1'])
    .default(def)
    .transform((v) => v === '1');
export const FLAG_EXPECTED = 'one of 0|1';

/**
 * Validates every variable of `section` in `env` (empty counts as unset) and throws one ConfigError naming the
 * first bad one, with its value redacted (or, for a secret, not shown).
 */
export function readEnv<S extends EnvSection>(section: S, env: Env): SectionValues<S> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(section)) {
    const raw = env[spec.name];
    const given = raw === '' ? undefined : raw;
    const parsed = spec.schema.safeParse(given, { reportInput: true });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      // An issue inside the value (one item of a list) shows that item; any other shows the whole value.
      const got =
        issue && issue.path.length > 0 && typeof issue.input === 'string' ? issue.input : (raw ?? '');
      throw ConfigError.invalid(spec.name, spec.expected, spec.secret ? undefined : redact(got));
    }
    out[key] = parsed.data;
  }
  return out as SectionValues<S>;
}

/** Part of a section, for a consumer that reads only some of its variables (one benchmark of several). */
export function pick<S extends EnvSection, K extends keyof S & string>(section: S, ...keys: K[]): Pick<S, K> {
  return Object.fromEntries(keys.map((k) => [k, section[k]])) as Pick<S, K>;
}

/** The section as one zod object keyed by variable name (for a schema-level view: docs, `.shape`). */
export function envSchema(section: EnvSection): z.ZodObject<Record<string, z.ZodType>> {
  return z.object(Object.fromEntries(Object.values(section).map((v) => [v.name, v.schema])));
}
