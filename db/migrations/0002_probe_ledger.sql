-- Version 2: the acknowledgement ledger that end-of-run reconciliation compares probe_rows against. One row per
-- run, runner and VU, incremented after every acknowledged probe write (k6 VUs share no memory, so the ledger
-- lives on the writer). Valid on MariaDB 10.11 and MySQL 8.4.
CREATE TABLE IF NOT EXISTS probe_ledger (
  run_id VARCHAR(64) NOT NULL,
  runner VARCHAR(32) NOT NULL,
  vu INT UNSIGNED NOT NULL,
  acked BIGINT UNSIGNED NOT NULL DEFAULT 0,
  updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (run_id, runner, vu)
) ENGINE=InnoDB;

INSERT IGNORE INTO schema_migrations (version) VALUES (2);
