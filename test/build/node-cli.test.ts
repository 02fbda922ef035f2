/**
 * The bundle launcher (build/node-cli.mjs) on a throwaway project: a temp root holding copies of the two build
 * scripts, a few sources and two tiny npm packages, so sources can be edited without touching the repository.
 */
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');
const root = mkdtempSync(join(tmpdir(), 'cqrs-node-cli-'));
const cache = join(root, 'node_modules', '.cache', 'cqrs-node');

function write(rel: string, text: string): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), text);
}

for (const f of ['node-cli.mjs', 'node-build.mjs']) {
  mkdirSync(join(root, 'build'), { recursive: true });
  copyFileSync(join(repo, 'build', f), join(root, 'build', f));
}
mkdirSync(join(root, 'node_modules'));
symlinkSync(join(repo, 'node_modules', 'esbuild'), join(root, 'node_modules', 'esbuild'));
write('package.json', '{ "type": "module" }\n');
write('src/message.ts', "export const message: string = 'first';\n");
write(
  'src/hello.ts',
  [
    "import { basename } from 'node:path';",
    "import located from 'located';",
    "import resolving from 'resolving';",
    "import { message } from './message.ts';",
    // import.meta and argv as under tsx: the source's own location, then the arguments.
    'console.log(JSON.stringify({ message, dir: import.meta.dirname, argv1: process.argv[1],',
    '  args: process.argv.slice(2), main: process.argv[1] === import.meta.filename,',
    '  located, resolving: basename(resolving) }));',
    '',
  ].join('\n'),
);
// A CommonJS package that finds a file next to itself: bundled, it must still see its own __dirname.
write('node_modules/located/package.json', '{ "name": "located", "version": "1.0.0", "main": "index.js" }\n');
write(
  'node_modules/located/index.js',
  [
    '#!/usr/bin/env node',
    "const data = require('fs').readFileSync(require('path').join(__dirname, 'data.txt'), 'utf8').trim();",
    'module.exports = { data };',
    '',
  ].join('\n'),
);
write('node_modules/located/data.txt', 'found next to located\n');
// A package that resolves a path at run time: it has to stay external.
write(
  'node_modules/resolving/package.json',
  '{ "name": "resolving", "version": "1.0.0", "main": "index.js" }\n',
);
write('node_modules/resolving/index.js', "module.exports = require.resolve('./index.js');\n");

afterAll(() => rmSync(root, { recursive: true, force: true }));

const launch = (args: string[]) =>
  execa('node', [join(root, 'build', 'node-cli.mjs'), ...args], { cwd: root, reject: false });

async function hello(...args: string[]) {
  const res = await launch(['src/hello.ts', ...args]);
  expect(res.exitCode, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as Record<string, unknown>;
}

const manifest = () =>
  JSON.parse(readFileSync(join(cache, 'entries', 'src~hello.ts.json'), 'utf8')) as {
    out: string;
    external: string[];
    files: Record<string, string>;
  };

/** Every file under the root, except the cache and the packages set up above. */
function tree(dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return relative(root, path) === 'node_modules' ? [] : tree(path);
    return [relative(root, path)];
  });
}

describe('node-cli launcher', () => {
  it('runs an entry from its bundle as tsx would: own location, argv, bundled packages', async () => {
    const out = await hello('a', '--b');
    expect(out).toEqual({
      message: 'first',
      dir: join(root, 'src'),
      argv1: join(root, 'src', 'hello.ts'),
      args: ['a', '--b'],
      main: true,
      located: { data: 'found next to located' },
      resolving: 'index.js',
    });
    const m = manifest();
    expect(m.external).toEqual(['resolving']);
    expect(Object.keys(m.files)).toEqual(expect.arrayContaining(['src/hello.ts', 'src/message.ts']));
    // One bundle in the cache holds the sources and the package that can be bundled, not the other.
    const bundle = readFileSync(join(cache, m.out), 'utf8');
    expect(bundle).toContain('node_modules/located/index.js');
    expect(bundle).toMatch(/from "resolving"/);
  });

  it('reuses a fresh bundle without rebuilding it', async () => {
    const file = join(cache, 'entries', 'src~hello.ts.json');
    const before = statSync(file).mtimeMs;
    await hello();
    expect(statSync(file).mtimeMs).toBe(before);
  });

  it('rebuilds when a source changes, even to the same size', async () => {
    write('src/message.ts', "export const message: string = 'other';\n");
    expect((await hello()).message).toBe('other');
  });

  it('rebuilds when a bundled package is upgraded', async () => {
    write('node_modules/located/index.js', "module.exports = 'version 2';\n");
    write(
      'node_modules/located/package.json',
      '{ "name": "located", "version": "2.0.0", "main": "index.js" }\n',
    );
    expect((await hello()).located).toBe('version 2');
  });

  it('never runs a stale bundle: a source that no longer builds fails in one line, exit 1', async () => {
    write('src/message.ts', "export const message: string = 'broken\n");
    const res = await launch(['src/hello.ts']);
    expect(res.exitCode).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^node-cli: cannot build src\/hello\.ts: src\/message\.ts:1: Unterminated string/,
      ),
    ]);
    write('src/message.ts', "export const message: string = 'fixed';\n");
    expect((await hello()).message).toBe('fixed');
  });

  it('builds the same sources once when two commands start together', async () => {
    write('src/message.ts', "export const message: string = 'together';\n");
    const outs = await Promise.all([hello(), hello(), hello()]);
    expect(outs.map((o) => o.message)).toEqual(['together', 'together', 'together']);
    expect(readdirSync(cache).filter((n) => n.startsWith('tmp-'))).toEqual([]);
  });

  it('refuses bad input in one line with a non-zero exit', async () => {
    write('outside.js', 'console.log(1);\n');
    for (const [args, code, message] of [
      [[], 2, /^node-cli: usage: node build\/node-cli\.mjs <entry\.ts>/],
      [['src/missing.ts'], 2, /^node-cli: no such entry point: src\/missing\.ts$/],
      [['outside.js'], 2, /^node-cli: not a TypeScript entry point of this project: outside\.js$/],
      [[join(repo, 'stack', 'cli.ts')], 2, /not a TypeScript entry point of this project/],
    ] as const) {
      const res = await launch([...args]);
      expect(res.exitCode, args.join(' ')).toBe(code);
      expect(res.stderr.trim().split('\n')).toEqual([expect.stringMatching(message)]);
    }
  });

  it('an uncaught error of the entry is one line, exit 1', async () => {
    write('src/throws.ts', "throw new Error('no database\\nsecond line');\n");
    const res = await launch(['src/throws.ts']);
    expect(res.exitCode).toBe(1);
    expect(res.stderr.trim()).toBe('node-cli: src/throws.ts: no database');
  });

  it('writes nothing outside node_modules/.cache', () => {
    expect(tree().sort()).toEqual(
      [
        'build/node-build.mjs',
        'build/node-cli.mjs',
        'outside.js',
        'package.json',
        'src/hello.ts',
        'src/message.ts',
        'src/throws.ts',
      ].sort(),
    );
  });
});
