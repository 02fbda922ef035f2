/**
 * The cache behind build/node-cli.mjs: one esbuild bundle per Node entry point (stack/cli.ts, api/server.ts,
 * …) under node_modules/.cache/cqrs-node/ (CQRS_NODE_BUILD_DIR moves it), with a manifest of what it was
 * built from. Plain JS on purpose: it runs before anything is built.
 *
 * A bundle is used only while its manifest still matches, by content hash: every project file in it (hashed
 * from the very bytes esbuild compiled, so an edit during a build is not missed), the package.json of every
 * npm package bundled into it (an install or upgrade rewrites it), these build scripts, package.json and the
 * tsconfig files. Checking costs about a millisecond; building takes 0.1-1 s, on first use and after a change.
 *
 * npm packages are bundled in too: Node then reads one file instead of resolving hundreds (0.17 s against
 * 0.31 s to load the stack CLI). Packages stay correct in a bundle because each bundled CommonJS file gets its
 * own `__dirname`/`__filename`, and a package that locates files at run time some other way (`require.resolve`,
 * `import.meta`, a computed `require`) is left external and loaded from node_modules, as esbuild itself is.
 * One difference remains: an ES module is strict, so bundled CommonJS runs strict too (the stack's and the
 * API's tests run these bundles).
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Bump when the manifest's shape or the way bundles are made changes in a way the inputs do not show. */
const FORMAT = 2;

/** Files outside the bundle's inputs that still decide what esbuild produces (relative to the root). */
const TOOL_FILES = [
  'build/node-build.mjs',
  'build/node-cli.mjs',
  'package.json',
  'tsconfig.json',
  'tsconfig.base.json',
  'tsconfig.node.json',
  'node_modules/esbuild/package.json',
];

/** A build dir no manifest points to is removed after this long (a process may be about to load it). */
const PRUNE_AFTER_MS = 60_000;

export class NodeBuildError extends Error {}

const sha1 = (data) => createHash('sha1').update(data).digest('hex');

/** Content hash of a file, or null when it does not exist. */
function fileHash(path) {
  try {
    return sha1(readFileSync(path));
  } catch {
    return null;
  }
}

/**
 * @param {string} root the project root (the folder holding build/ and node_modules/)
 * @param {NodeJS.ProcessEnv} env CQRS_NODE_BUILD_DIR moves the cache (tests and benchmarks use a temp one)
 */
export function cacheDir(root, env = process.env) {
  return env.CQRS_NODE_BUILD_DIR
    ? resolve(env.CQRS_NODE_BUILD_DIR)
    : join(root, 'node_modules', '.cache', 'cqrs-node');
}

const manifestFile = (cache, rel) => join(cache, 'entries', `${rel.replaceAll('/', '~')}.json`);

/**
 * The bundle of `entry` (absolute) if one exists and nothing it was built from has changed since; else null.
 * @returns {string | null}
 */
export function freshBundle(root, cache, entry) {
  const rel = relative(root, entry);
  let m;
  try {
    m = JSON.parse(readFileSync(manifestFile(cache, rel), 'utf8'));
  } catch {
    return null;
  }
  if (m.format !== FORMAT || m.root !== root || m.entry !== rel) return null;
  for (const [file, hash] of Object.entries(m.files)) if (fileHash(join(root, file)) !== hash) return null;
  const out = join(cache, m.out);
  return existsSync(out) ? out : null;
}

/** `node_modules/@scope/name` or `node_modules/name` (the innermost, for nested copies) of a file, and its name. */
function packageOf(file) {
  const parts = file.split(sep);
  const i = parts.lastIndexOf('node_modules');
  if (i < 0) return null;
  const n = parts[i + 1]?.startsWith('@') ? 2 : 1;
  return { dir: parts.slice(0, i + 1 + n).join(sep), name: parts.slice(i + 1, i + 1 + n).join('/') };
}

/** Package code that finds files relative to itself in a way a bundle cannot keep. */
const LOCATES_FILES =
  /\brequire\.resolve\b|\bimport\.meta\b|(?<![\w$.])require\s*\(\s*(?!\)|['"`][^'"`]*['"`]\s*\))/;

/**
 * A bundled CommonJS file keeps its own `__dirname` and `__filename` (an ESM bundle has neither), declared on
 * its first line (after a hashbang), so line numbers and source maps stay as they were.
 */
function withOwnLocation(source, path) {
  if (
    !/\b__(dirname|filename)\b/.test(source) ||
    /\b(const|let|var|function|class)\s+__(dirname|filename)\b/.test(source)
  ) {
    return source;
  }
  const head = /^#![^\n]*\n/.exec(source)?.[0] ?? '';
  const where = `var __filename = ${JSON.stringify(path)}, __dirname = ${JSON.stringify(dirname(path))};`;
  return `${head}${where}${source.slice(head.length)}`;
}

/** Our own code: a computed `import()` would be resolved against the bundle's folder, not the source's. */
const COMPUTED_IMPORT = /(?<![\w$.])import\s*\(\s*(?!['"`][^'"`]*['"`]\s*[,)])/;

const loaderFor = (path) => (/\.[cm]?ts$/.test(path) ? 'ts' : /\.json$/.test(path) ? 'json' : 'js');

/**
 * Builds `entry` (absolute) and records its manifest; returns the bundle's path. Concurrent builds of the same
 * sources are safe: each writes its own temp folder, and the content-addressed result is renamed into place.
 */
export async function buildBundle(root, cache, entry) {
  const { build } = await import('esbuild');
  const rel = relative(root, entry);
  let previous;
  try {
    previous = JSON.parse(readFileSync(manifestFile(cache, rel), 'utf8'));
  } catch {}
  // Packages that must stay external are only known once their code is read: start from last time's, and
  // build again in the rare case that a new one shows up.
  const external = new Set(previous?.format === FORMAT ? previous.external : []);
  for (let attempt = 0; ; attempt++) {
    const files = {};
    const packageDirs = new Set();
    const locating = new Set();
    const computedImports = [];
    let result;
    try {
      result = await build({
        entryPoints: [entry],
        absWorkingDir: root,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        outfile: join(cache, 'out', rel.replace(/\.[cm]?ts$/, '.mjs')),
        write: false,
        metafile: true,
        sourcemap: 'linked',
        sourcesContent: false,
        logLevel: 'silent',
        external: [...external].flatMap((name) => [name, `${name}/*`]),
        // CommonJS packages call require() for Node built-ins; an ESM bundle has no require of its own.
        banner: {
          js: "import { createRequire as __cqrsCreateRequire } from 'node:module'; const require = __cqrsCreateRequire(import.meta.url);",
        },
        plugins: [
          {
            name: 'keep-file-locations',
            setup(b) {
              b.onLoad({ filter: /\.([cm]?[jt]s|json)$/ }, (args) => {
                const bytes = readFileSync(args.path);
                const source = bytes.toString('utf8');
                const pkg = packageOf(args.path);
                if (!pkg) {
                  files[relative(root, args.path)] = sha1(bytes);
                  if (COMPUTED_IMPORT.test(source)) computedImports.push(relative(root, args.path));
                  // Each module keeps its own location: one bundle holds many modules, and `import.meta` would
                  // otherwise name the bundle (PROJECT_ROOT, `argv[1] === import.meta.filename` main checks).
                  const contents = source
                    .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(dirname(args.path)))
                    .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(args.path))
                    .replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(args.path).href));
                  return { contents, loader: loaderFor(args.path) };
                }
                packageDirs.add(pkg.dir);
                if (loaderFor(args.path) === 'json') return { contents: source, loader: 'json' };
                if (LOCATES_FILES.test(source)) {
                  locating.add(pkg.name);
                  return { contents: source, loader: 'js' };
                }
                return { contents: withOwnLocation(source, args.path), loader: 'js' };
              });
            },
          },
        ],
      });
    } catch (err) {
      // A package's own code may not even build once bundled; retry with the packages just found external.
      if ([...locating].some((name) => !external.has(name)) && attempt < 5) {
        for (const name of locating) external.add(name);
        continue;
      }
      throw new NodeBuildError(describeBuildError(root, err));
    }
    if (computedImports.length > 0) {
      throw new NodeBuildError(
        `${computedImports[0]}: an import() with a computed path cannot be bundled; run this entry with tsx`,
      );
    }
    const added = [...locating].filter((name) => !external.has(name));
    if (added.length > 0) {
      if (attempt >= 5) throw new NodeBuildError(`packages still found to locate files: ${added.join(', ')}`);
      for (const name of added) external.add(name);
      continue;
    }
    // Inputs no loader above saw (a text or data file of our own) count too.
    for (const input of Object.keys(result.metafile.inputs)) {
      if (!(input in files) && !packageOf(join(root, input))) files[input] = fileHash(join(root, input));
    }
    // A package's files are not hashed one by one (thousands): its package.json stands for them, since an
    // install or upgrade rewrites it (its version at least).
    for (const dir of [...packageDirs].sort()) {
      const pj = join(dir, 'package.json');
      files[relative(root, pj)] = fileHash(pj);
    }
    for (const file of TOOL_FILES) files[file] = fileHash(join(root, file));
    return install(cache, rel, result.outputFiles, {
      format: FORMAT,
      root,
      entry: rel,
      external: [...external].sort(),
      files,
    });
  }
}

/** Writes the outputs into a content-addressed folder, points the entry's manifest at it, prunes the rest. */
function install(cache, rel, outputFiles, manifest) {
  const outRoot = join(cache, 'out');
  const id = sha1(
    outputFiles.map((f) => `${relative(outRoot, f.path)}\0${sha1(f.contents)}`).join('\n'),
  ).slice(0, 16);
  const dir = join(cache, `b-${id}`);
  if (!existsSync(dir)) {
    const tmp = join(cache, `tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    for (const f of outputFiles) {
      const target = join(tmp, relative(outRoot, f.path));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, f.contents);
    }
    try {
      renameSync(tmp, dir);
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      // Another process installed the same bytes first.
      if (!existsSync(dir)) throw err;
    }
  }
  const out = join(`b-${id}`, rel.replace(/\.[cm]?ts$/, '.mjs'));
  const file = manifestFile(cache, rel);
  mkdirSync(dirname(file), { recursive: true });
  const tmpManifest = `${file}.${process.pid}.tmp`;
  writeFileSync(tmpManifest, `${JSON.stringify({ ...manifest, out }, null, 1)}\n`);
  renameSync(tmpManifest, file);
  prune(cache);
  return join(cache, out);
}

function prune(cache) {
  const used = new Set();
  for (const name of readdirSync(join(cache, 'entries'))) {
    try {
      used.add(JSON.parse(readFileSync(join(cache, 'entries', name), 'utf8')).out.split('/')[0]);
    } catch {}
  }
  const now = Date.now();
  for (const name of readdirSync(cache)) {
    if (!/^(b|tmp)-/.test(name) || used.has(name)) continue;
    try {
      if (now - statSync(join(cache, name)).mtimeMs > PRUNE_AFTER_MS) {
        rmSync(join(cache, name), { recursive: true, force: true });
      }
    } catch {}
  }
}

/** esbuild's first error as one line: `file:line: text`. */
function describeBuildError(root, err) {
  const errors = err?.errors ?? [];
  const first = errors[0];
  if (!first) return String(err?.message ?? err).split('\n')[0];
  const where = first.location
    ? `${relative(root, resolve(root, first.location.file))}:${first.location.line}: `
    : '';
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  return `${where}${first.text}${more}`;
}
