-- Version 5: drop probe_ledger (0002). Its per-VU counts were replaced by one row per acknowledged write in
-- probe_acks (0003), and nothing has written it since. Versioned migrations are never edited once shipped, so
-- 0002 still creates the table on a fresh datadir and this drops it again. Valid on MariaDB 10.11 and MySQL 8.4.
DROP TABLE IF EXISTS probe_ledger;

INSERT IGNORE INTO schema_migrations (version) VALUES (5);
