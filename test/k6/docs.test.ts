import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_SCHEMA } from '../../lib/config.ts';
import { SCENARIO_THRESHOLDS } from '../../lib/thresholds.ts';
import { blockEnd, blockStart, DOC_BLOCKS, type DocBlock, tableCells } from '../helpers/doc-blocks.ts';

const doc = readFileSync('docs/k6-scenarios.md', 'utf8');

/** Table rows as trimmed cells: the formatter (biome) pads Markdown tables, which changes no content. */
function normalize(markdown: string): string {
  return markdown
    .split('\n')
    .map((line) => {
      if (!line.startsWith('|')) return line.trim();
      const cells = tableCells(line)[0] ?? [];
      return cells.every((c) => /^-+$/.test(c)) ? cells.map(() => '---').join('|') : cells.join('|');
    })
    .join('\n');
}

describe('docs/k6-scenarios.md', () => {
  for (const name of Object.keys(DOC_BLOCKS) as DocBlock[]) {
    it(`has the generated ${name} table, up to date`, () => {
      const expected = `${blockStart(name)}\n${DOC_BLOCKS[name]()}\n${blockEnd(name)}`;
      const start = doc.indexOf(blockStart(name));
      const end = doc.indexOf(blockEnd(name));
      const actual = start >= 0 && end > start ? doc.slice(start, end + blockEnd(name).length) : '';
      const hint = `replace the block in docs/k6-scenarios.md (npx tsx test/helpers/doc-blocks.ts does) with:\n${expected}`;
      expect(normalize(actual), hint).toBe(normalize(expected));
    });
  }

  it('lists every variable and every SQL scenario', () => {
    for (const spec of Object.values(CONFIG_SCHEMA)) expect(doc).toContain(`\`${spec.name}\``);
    for (const scenario of Object.keys(SCENARIO_THRESHOLDS)) expect(doc).toContain(`| \`${scenario}\``);
  });

  it('documents each default threshold expression', () => {
    for (const thresholds of Object.values(SCENARIO_THRESHOLDS)) {
      for (const [metric, exprs] of Object.entries(thresholds)) {
        for (const e of exprs as readonly string[]) expect(doc).toContain(`\`${metric}\` ${e}`);
      }
    }
  });
});
