/**
 * SQLite schema, versioned and forward-only. The migrations are the frozen
 * files migrations/NNNN_name.sql, bundled into migrations.generated.ts by
 * `npm run build:migrations`; to change the schema, add the next file (see
 * migrations/README.md), never edit a shipped one. Times are epoch
 * milliseconds, JSON is text.
 */
import type Database from 'better-sqlite3'
import { migrations as bundled } from './migrations.generated.js'

export interface Migration {
  version: number
  name: string
  /** The file under migrations/ it was bundled from. */
  file: string
  sql: string
}

export const migrations: readonly Migration[] = bundled

/**
 * Applies the migrations `db` has not recorded in docket_migrations, in
 * order, inside one IMMEDIATE transaction: the write lock is taken before the
 * applied versions are read, so two processes opening a new file at once
 * apply each migration once (the second waits, then finds them applied).
 * `list` is for tests that build a database at an earlier version.
 */
export function migrate(db: Database.Database, list: readonly Migration[] = migrations): void {
  db.exec(`CREATE TABLE IF NOT EXISTS docket_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`)
  db.transaction(() => {
    const applied = new Set(
      (db.prepare('SELECT version FROM docket_migrations').all() as { version: number }[]).map(
        (r) => r.version,
      ),
    )
    for (const m of list) {
      if (applied.has(m.version)) continue
      db.exec(m.sql)
      db.prepare('INSERT INTO docket_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        Date.now(),
      )
    }
  }).immediate()
}
