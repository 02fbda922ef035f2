/**
 * The generated parts of docs/k6-scenarios.md: the variable table (from the config schema) and the metric
 * table (from the metric registry). A test keeps the document equal to these. Runtime-neutral.
 */
import { K6_METRICS, remoteWriteSeries } from '../../common/metrics.ts';
import { configTableMarkdown } from '../../lib/config.ts';
import { mdTable } from '../../lib/summary/format.ts';

export const DOC_BLOCKS = {
  config: configTableMarkdown,
  metrics: (): string =>
    mdTable(
      ['k6 metric', 'type', 'Prometheus series (remote write)', 'meaning'],
      Object.values(K6_METRICS).map((m) => [
        `\`${m.name}\``,
        m.kind + (m.isTime ? ' (ms)' : ''),
        `\`${remoteWriteSeries(m, 'p(95)')}\``,
        m.help,
      ]),
    ),
} as const;

export type DocBlock = keyof typeof DOC_BLOCKS;

export const blockStart = (name: DocBlock) =>
  `<!-- generated:${name} (edit lib/config.ts or common/metrics.ts) -->`;
export const blockEnd = (name: DocBlock) => `<!-- /generated:${name} -->`;
