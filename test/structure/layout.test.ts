/** The README's Layout table names exactly the repository's top-level folders, so a newcomer's map is true. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');

describe('README layout', () => {
  it('lists every tracked top-level folder, and only those', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(
      readme.indexOf('## Layout\n'),
      readme.indexOf('\n## ', readme.indexOf('## Layout\n') + 1),
    );
    const listed = [...section.matchAll(/^\| `([^`]+)\/`/gm)].map((m) => (m[1] as string).split('/')[0]);
    const tracked = new Set(
      execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' })
        .split('\n')
        .filter((f) => f.includes('/') && !f.startsWith('.'))
        .map((f) => f.split('/')[0] as string),
    );
    expect(listed.length).toBeGreaterThan(5);
    expect(new Set(listed)).toEqual(tracked);
  });
});
