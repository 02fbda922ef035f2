/**
 * No credential reaches a bundle: every built scenario (and its source map) is free of every lab password, and
 * no k6-side module imports the stack's credentials. The DSNs come from __ENV (stack.env, or `npm start`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STACK_DEFAULT_USERS } from '../../common/stack-credentials.ts';
import { useBuiltBundles } from '../helpers/bundles.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const PASSWORDS = Object.values(STACK_DEFAULT_USERS).map((u) => u.password);
const built = useBuiltBundles('cqrs-credentials-');

/** Every .ts file under the k6-side folders. */
function k6Sources(): string[] {
  return ['lib', 'scenarios', 'common'].flatMap((dir) =>
    readdirSync(join(ROOT, dir), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(ROOT, dir, f)),
  );
}

describe('credentials in bundles', () => {
  it('no lab password is in any bundle or source map', () => {
    const files = readdirSync(built.dir).filter((f) => f.endsWith('.js') || f.endsWith('.js.map'));
    expect(files.filter((f) => f.endsWith('.js')).length).toBe(built.files.length);
    const found = files.flatMap((f) => {
      const text = readFileSync(join(built.dir, f), 'utf8');
      return PASSWORDS.filter((pw) => text.includes(pw)).map((pw) => `${f}: ${pw}`);
    });
    expect(found).toEqual([]);
  });

  it('no k6-side module imports the stack credentials', () => {
    const importers = k6Sources().filter((f) =>
      /from\s+['"][^'"]*stack\/credentials(\.ts)?['"]/.test(readFileSync(f, 'utf8')),
    );
    expect(importers.map((f) => relative(ROOT, f))).toEqual([]);
  });
});
