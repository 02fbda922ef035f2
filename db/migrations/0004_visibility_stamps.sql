-- Version 4: server-side times for lag measured independently of the load generator.
-- * applied_at on probe_rows and users: NULL on the primary. On a MariaDB replica a replica-only trigger
--   (common/dialect.ts replicaApplyStamps, created by the stack with sql_log_bin=0) stamps SYSDATE(6) when the
--   replica applies the row, so applied_at - written_at (created_at for users) is the replica's own apply lag
--   in microseconds, whatever the client's latency. Inside replicated events NOW(6) is the source's time, so
--   the trigger must use SYSDATE(6).
-- * heartbeat_log: one row per heartbeat, ts_us = the primary's NOW(6) in integer microseconds since the epoch
--   (integers compare and index without time-zone conversions), with the same replica-side stamp in
--   applied_us. The short history lets a sampler find the oldest beat the replica still lacks, which keeps
--   heartbeat lag from reading as the gap between two beats (common/heartbeat.ts).
-- Valid on MariaDB 10.11 and MySQL 8.4 (MySQL runs no triggers for row events; there applied_at stays NULL
-- and the estimators fall back to read-side times, as docs/k6-scenarios.md describes).
ALTER TABLE probe_rows ADD COLUMN applied_at TIMESTAMP(6) NULL DEFAULT NULL;
ALTER TABLE users ADD COLUMN applied_at TIMESTAMP(6) NULL DEFAULT NULL;

CREATE TABLE IF NOT EXISTS heartbeat_log (
  ts_us BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  applied_us BIGINT UNSIGNED NULL DEFAULT NULL
) ENGINE=InnoDB;

INSERT IGNORE INTO schema_migrations (version) VALUES (4);
