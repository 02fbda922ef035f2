/**
 * Applies the versioned migrations in db/migrations (NNNN_name.sql) that the primary has not seen yet. These files
 * are the schema's one source: any other way of running the suite must apply the same files, not a copy.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { PROJECT_ROOT } from './config.ts';

export const MIGRATIONS_DIR = join(PROJECT_ROOT, 'db', 'migrations');

export interface Migration {
  version: number;
  file: string;
  sql: string;
}

export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_.+\.sql$/.test(f))
    .sort()
    .map((file) => ({ version: Number(file.slice(0, 4)), file, sql: readFileSync(join(dir, file), 'utf8') }));
}

/** Runs pending migrations on a connection opened with multipleStatements, already `USE`-ing the app database. */
export async function migrate(conn: Connection, dir = MIGRATIONS_DIR): Promise<number[]> {
  const [tables] = await conn.query<RowDataPacket[]>("SHOW TABLES LIKE 'schema_migrations'");
  let applied = new Set<number>();
  if (tables.length > 0) {
    const [rows] = await conn.query<RowDataPacket[]>('SELECT version FROM schema_migrations');
    applied = new Set(rows.map((r) => Number(r.version)));
  }
  const done: number[] = [];
  for (const m of listMigrations(dir)) {
    if (applied.has(m.version)) continue;
    await conn.query(m.sql);
    done.push(m.version);
  }
  return done;
}
