/**
 * `npm run report -- <report folder> [more folders] [--out <file>] [--title <text>]`: one folder gives
 * <folder>/report.html (or --out), several give one experiment report at --out. Every failure is one line on
 * stderr: exit 2 for a usage error, 1 for input that is not a run's report folder.
 */
import { isAbsolute, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { oneLine } from '../../stack/errors.ts';
import { writeExperimentReport, writeRunReport } from './files.ts';

const USAGE = 'usage: npm run report -- <report folder> [more folders] [--out <file.html>] [--title <text>]';

class UsageError extends Error {}

function main(argv: readonly string[]): void {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new UsageError(`${oneLine(err)}; ${USAGE}`);
  }
  const { positionals: dirs, values } = parsed;
  if (dirs.length === 0) throw new UsageError(USAGE);
  const opts = values.title === undefined ? {} : { title: values.title };
  let file: string;
  if (dirs.length === 1 && values.out === undefined) file = writeRunReport(dirs[0] as string, {}, opts);
  else if (values.out === undefined)
    throw new UsageError(
      `${dirs.length} report folders make one experiment report: say where with --out <file.html>`,
    );
  else file = writeExperimentReport(dirs, values.out, opts);
  const rel = relative(process.cwd(), resolve(file));
  console.log(`report: ${rel.startsWith('..') || isAbsolute(rel) ? resolve(file) : rel}`);
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { out: { type: 'string' }, title: { type: 'string' } },
  });
}

try {
  main(process.argv.slice(2).filter((a) => a !== '--'));
} catch (err) {
  console.error(`report: ${oneLine(err)}`);
  process.exitCode = err instanceof UsageError ? 2 : 1;
}
