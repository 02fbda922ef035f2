/** Prometheus with the remote-write receiver and native histograms, scraping the exporters and the API at 1 s. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import type { Binaries } from './binaries.ts';
import type { StackConfig } from './config.ts';
import { StackError } from './errors.ts';

export function prometheusConfig(cfg: StackConfig): unknown {
  const at = (port: number) => `${cfg.host}:${port}`;
  return {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    scrape_configs: [
      {
        job_name: 'mysqld',
        static_configs: [
          { targets: [at(cfg.ports.exporterPrimary)], labels: { role: 'primary' } },
          { targets: [at(cfg.ports.exporterReplica)], labels: { role: 'replica' } },
        ],
      },
      { job_name: 'cqrs-api', static_configs: [{ targets: [at(cfg.ports.api)] }] },
      { job_name: 'prometheus', static_configs: [{ targets: [at(cfg.ports.prometheus)] }] },
    ],
  };
}

/** Writes prometheus.yml and validates it with promtool; returns the args to start Prometheus with. */
export async function preparePrometheus(cfg: StackConfig, bins: Binaries): Promise<string[]> {
  const dir = join(cfg.stateDir, 'prometheus');
  mkdirSync(join(dir, 'data'), { recursive: true, mode: 0o700 });
  const file = join(dir, 'prometheus.yml');
  writeFileSync(file, stringify(prometheusConfig(cfg)));
  const check = await execa(bins.promtool, ['check', 'config', file], { reject: false, all: true });
  if (check.exitCode !== 0) {
    throw new StackError(
      `prometheus config is invalid: ${(check.all ?? '').trim().split('\n').slice(-1)[0]}`,
    );
  }
  return [
    `--config.file=${file}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=${cfg.host}:${cfg.ports.prometheus}`,
    '--web.enable-remote-write-receiver',
    '--enable-feature=native-histograms',
    '--storage.tsdb.retention.time=7d',
  ];
}

/** One exporter per server, each with its own my.cnf and loopback port. */
export function prepareExporter(cfg: StackConfig, role: 'primary' | 'replica'): string[] {
  const dir = join(cfg.stateDir, `exporter-${role}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const cnf = join(dir, 'my.cnf');
  const port = role === 'primary' ? cfg.ports.primary : cfg.ports.replica;
  writeFileSync(
    cnf,
    `[client]\nuser=${cfg.users.exporter.user}\npassword=${cfg.users.exporter.password}\nhost=${cfg.host}\nport=${port}\n`,
    { mode: 0o600 },
  );
  const listen = role === 'primary' ? cfg.ports.exporterPrimary : cfg.ports.exporterReplica;
  return [
    `--config.my-cnf=${cnf}`,
    `--web.listen-address=${cfg.host}:${listen}`,
    '--collect.slave_status',
    '--collect.heartbeat',
    `--collect.heartbeat.database=${cfg.database}`,
    '--collect.heartbeat.table=heartbeat',
  ];
}
