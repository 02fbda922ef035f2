/**
 * Bundles every scenarios/*.ts into dist/<name>.js for k6: ESM (a CommonJS bundle breaks the xk6-sql driver
 * Symbol), `k6` and `k6/*` left external, npm dependencies bundled in, sourcemaps on, no minification.
 * It refuses anything k6 cannot run: a type error, a Node built-in, or an import k6 cannot resolve.
 */
import { readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { basename, join, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { execa } from 'execa';

const root = resolve(import.meta.dirname, '..');
const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

export interface BundleOptions {
  scenariosDir?: string;
  outDir?: string;
  /** Run `tsc` on the k6 world first (the default); tests that only check bundling may skip it. */
  typecheck?: boolean;
  /** The tsconfig of the k6 world. */
  tsconfig?: string;
}

export class BundleError extends Error {}

/** k6 resolves `k6` and `k6/...` itself; everything else must be bundled, and Node built-ins do not exist there. */
function k6Imports(): Plugin {
  return {
    name: 'k6-imports',
    setup(b) {
      b.onResolve({ filter: /^k6(\/.*)?$/ }, (args) => ({ path: args.path, external: true }));
      b.onResolve({ filter: /.*/ }, (args) => {
        const bare = args.path.split('/')[0] ?? args.path;
        if (NODE_BUILTINS.has(args.path) || NODE_BUILTINS.has(bare) || args.path.startsWith('node:')) {
          return {
            errors: [
              {
                text: `Node built-in "${args.path}" cannot be used in k6 code (imported by ${args.importer})`,
              },
            ],
          };
        }
        if (/^https?:\/\//.test(args.path)) {
          return {
            errors: [{ text: `remote import "${args.path}" is not allowed: bundles must run offline` }],
          };
        }
        return undefined;
      });
    },
  };
}

export async function bundleScenarios(opts: BundleOptions = {}): Promise<string[]> {
  const scenariosDir = opts.scenariosDir ?? join(root, 'scenarios');
  const outDir = opts.outDir ?? join(root, 'dist');
  const entries = readdirSync(scenariosDir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => join(scenariosDir, f));
  if (entries.length === 0) throw new BundleError(`no scenarios found in ${scenariosDir}`);

  if (opts.typecheck ?? true) {
    const tsconfig = opts.tsconfig ?? join(root, 'tsconfig.k6.json');
    const tsc = await execa(join(root, 'node_modules', '.bin', 'tsc'), ['-p', tsconfig, '--noEmit'], {
      cwd: root,
      reject: false,
      all: true,
    });
    if (tsc.exitCode !== 0) throw new BundleError(`type errors in k6 code:\n${tsc.all}`);
  }

  try {
    await build({
      entryPoints: entries,
      outdir: outDir,
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      target: 'es2020',
      mainFields: ['module', 'main'],
      sourcemap: true,
      minify: false,
      logLevel: 'silent',
      plugins: [k6Imports()],
    });
  } catch (err) {
    const errors = (err as { errors?: { text: string; location?: { file: string; line: number } }[] }).errors;
    const lines = errors?.map((e) =>
      e.location ? `${e.location.file}:${e.location.line}: ${e.text}` : e.text,
    );
    throw new BundleError(lines?.join('\n') ?? String(err));
  }
  return entries.map((e) => join(outDir, `${basename(e, '.ts')}.js`));
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  bundleScenarios()
    .then((files) =>
      console.log(
        `bundled ${files.length} scenario(s) into dist/: ${files.map((f) => basename(f)).join(', ')}`,
      ),
    )
    .catch((err: unknown) => {
      console.error(`build failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    });
}
