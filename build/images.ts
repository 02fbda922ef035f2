/**
 * The one table of image pins: the Compose lab (build/compose/render.ts) and the Kubernetes manifests
 * (k8s/src/settings.ts) both take their images from here, so the two ways of running cannot drift to
 * different servers. Every entry is a tag, never `latest`; test/build/images.test.ts checks that compose.yaml
 * and every manifest under k8s/ name only these.
 */

/** MySQL 8.4 LTS, the server common/dialect.ts's `mysql` flavour is written for. */
export const MYSQL_VERSION = '8.4.6';

/**
 * Prometheus 3.x. Native histograms still need `--enable-feature=native-histograms` before 3.8 (it became a
 * no-op there), so both runtimes pass it with this pin; `--web.enable-remote-write-receiver` is unchanged in 3.x.
 */
export const PROMETHEUS_VERSION = '3.5.0';

export const IMAGE_PINS = {
  mysql: `mysql:${MYSQL_VERSION}`,
  redis: 'redis:7.4.2-alpine',
  prometheus: `prom/prometheus:v${PROMETHEUS_VERSION}`,
  grafana: 'grafana/grafana:12.1.1',
  /** Multi-target `/probe` (k8s) and single-target (Compose) both exist in this release. */
  mysqldExporter: 'prom/mysqld-exporter:v0.17.2',
  /** The API scenarios import only k6's own modules: the stock image, the same k6 as the runner image. */
  k6Stock: 'grafana/k6:2.2.0',
  /** build/api/Dockerfile: the API, the delay proxy, the replica setup (the package.json version). */
  api: 'mysql-cqrs-k6/api:0.1.0',
  /** build/xk6/Dockerfile: k6 v2.2.0 with xk6-sql v1.2.1 and its MySQL driver (build/xk6/versions.env). */
  k6Sql: 'mysql-cqrs-k6/k6:2.2.0-sql1.2.1',
} as const;

/** Prometheus's flags for what both runtimes need: k6 pushes by remote write, with native histograms. */
export const PROMETHEUS_INGEST_FLAGS = [
  '--web.enable-remote-write-receiver',
  // Native histograms from k6's remote write; Prometheus before 3.8 only stores them with this flag.
  '--enable-feature=native-histograms',
] as const;
