-- Version 3: the acknowledgement ledger, one row per acknowledged write (run, runner, VU and per-VU sequence),
-- written after every acknowledged probe write. End-of-run reconciliation looks each acknowledged write up by its
-- key (an anti-join with probe_rows, or users for the API), so a row that was committed but never acknowledged
-- cannot stand in for an acknowledged one that was lost, as it could when 0002's per-VU counts were compared.
-- probe_ledger (0002) stays for datadirs that have it but is no longer written. Valid on MariaDB 10.11 and
-- MySQL 8.4.
CREATE TABLE IF NOT EXISTS probe_acks (
  run_id VARCHAR(64) NOT NULL,
  runner VARCHAR(32) NOT NULL,
  vu INT UNSIGNED NOT NULL,
  seq BIGINT UNSIGNED NOT NULL,
  acked_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (run_id, runner, vu, seq)
) ENGINE=InnoDB;

INSERT IGNORE INTO schema_migrations (version) VALUES (3);
