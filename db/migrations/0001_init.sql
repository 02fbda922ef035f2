-- Version 1 of the app schema. Applied by the local stack, Docker Compose and Kubernetes alike, always on the
-- primary (replicas get it through replication). Valid on MariaDB 10.11 and MySQL 8.4.
CREATE TABLE IF NOT EXISTS schema_migrations (
  version INT UNSIGNED NOT NULL PRIMARY KEY,
  applied_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB;

-- Rows written by the read-after-write probes. `tag` is unique per write (run id + runner + VU + iteration), so
-- a probe can look its own row up, and reconciliation can find every acknowledged write of a run and runner.
CREATE TABLE IF NOT EXISTS probe_rows (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  tag VARCHAR(128) NOT NULL,
  run_id VARCHAR(64) NOT NULL,
  runner VARCHAR(32) NOT NULL,
  vu INT UNSIGNED NOT NULL,
  iter BIGINT UNSIGNED NOT NULL,
  payload VARCHAR(255) NOT NULL DEFAULT '',
  written_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  UNIQUE KEY uq_probe_rows_tag (tag),
  KEY ix_probe_rows_run (run_id, runner, vu, iter)
) ENGINE=InnoDB;

-- pt-heartbeat-compatible shape (server_id + ts) so prometheus-mysqld-exporter's heartbeat collector reads it
-- too; ts has microseconds so replica lag is measurable below one second.
CREATE TABLE IF NOT EXISTS heartbeat (
  server_id INT UNSIGNED NOT NULL PRIMARY KEY,
  ts TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB;

-- The CQRS API's aggregate.
CREATE TABLE IF NOT EXISTS users (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  email VARCHAR(254) NOT NULL,
  name VARCHAR(200) NOT NULL,
  created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  UNIQUE KEY uq_users_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

INSERT IGNORE INTO schema_migrations (version) VALUES (1);
