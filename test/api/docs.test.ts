/**
 * docs/api.md stays in step with the code: every config variable, metric series, strategy, visibility header
 * and basis, and the ledger endpoints are documented.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigSchema, loadConfig } from '../../api/config.ts';
import { API_METRICS } from '../../common/metrics.ts';
import { STRATEGIES } from '../../common/strategies.ts';
import { VISIBILITY_BASES, VISIBILITY_HEADERS } from '../../common/visibility.ts';
import { canonicalHeader } from '../../lib/api/visibility.ts';
import { CONFIG_SCHEMA } from '../../lib/config.ts';

const doc = readFileSync(join(import.meta.dirname, '../../docs/api.md'), 'utf8');

describe('docs/api.md', () => {
  it('documents every API config variable', () => {
    for (const name of Object.keys(ConfigSchema.shape)) expect(doc, name).toContain(`\`${name}`);
  });

  it('shows the real defaults', () => {
    const c = loadConfig({});
    for (const value of [c.writerUrl, c.readerUrl, c.redisUrl, String(c.port), String(c.stickyWindowMs)]) {
      expect(doc).toContain(`\`${value}\``);
    }
  });

  it('documents every metric series with its labels', () => {
    for (const def of Object.values(API_METRICS)) {
      const row = doc.split('\n').find((l) => new RegExp(`^\\|\\s*\`${def.name}\``).test(l));
      expect(row, def.name).toBeDefined();
      for (const label of def.labels) expect(row, `${def.name} ${label}`).toContain(`\`${label}\``);
    }
  });

  it('documents every strategy and the k6 scenario variables', () => {
    for (const s of STRATEGIES) expect(doc).toMatch(new RegExp(`^\\|\\s*\`${s}\`\\s*\\|`, 'm'));
    for (const v of [CONFIG_SCHEMA.apiStrategies, CONFIG_SCHEMA.apiStrategy])
      expect(doc).toContain(`\`${v.name}\``);
  });

  it('documents the visibility headers and every basis', () => {
    for (const h of Object.values(VISIBILITY_HEADERS))
      expect(doc).toMatch(new RegExp(`^\\|\\s*\`${canonicalHeader(h)}\``, 'm'));
    for (const b of VISIBILITY_BASES) expect(doc).toMatch(new RegExp(`^\\|\\s*\`${b}\`\\s*\\|`, 'm'));
  });

  it('documents the ledger endpoints', () => {
    for (const route of ['POST /probe-acks', 'GET /probe-acks/:runId/:runner'])
      expect(doc).toMatch(new RegExp(`^\\|\\s*\`${route}\``, 'm'));
  });
});
