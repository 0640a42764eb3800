/**
 * SQLite schema, versioned and forward-only. The migrations are the frozen
 * files migrations/NNNN_name.sql, bundled into migrations.generated.ts by
 * `npm run build:migrations`; to change the schema, add the next file (see
 * migrations/README.md), never edit a shipped one. Times are epoch
 * milliseconds, JSON is text.
 */
import type Database from 'better-sqlite3'
import {
  type CodeSchema,
  type DatabaseSchema,
  planSchema,
  type SchemaPlan,
  schemaRefusal,
} from '../../core/schema.js'
import { docketVersion } from '../docket-version.js'
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
 * Refuses, changing nothing, a file with a migration this code does not know
 * (SCHEMA_NEWER). `list` is for tests that build a database at an earlier
 * version.
 */
export function migrate(db: Database.Database, list: readonly Migration[] = migrations): void {
  db.exec(`CREATE TABLE IF NOT EXISTS docket_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`)
  db.transaction(() => {
    const code = codeSchema(list)
    const plan = planSchema(code, readSchema(db))
    const refusal = schemaRefusal(plan, code, true)
    if (refusal) throw refusal
    for (const m of plan.pending) {
      const migration = list.find((l) => l.version === m.version) as Migration
      db.exec(migration.sql)
      db.prepare('INSERT INTO docket_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        Date.now(),
      )
    }
  }).immediate()
}

/** For `migrate: false`: changes nothing, and refuses a schema that is newer or older than this code's. */
export function checkSchema(db: Database.Database): void {
  const refusal = schemaRefusal(inspectSchema(db), codeSchema(), false)
  if (refusal) throw refusal
}

/** What migrating would do, read without changing anything (`docket migrate --plan`, `status`). */
export function inspectSchema(db: Database.Database): SchemaPlan {
  return planSchema(codeSchema(), readSchema(db))
}

/** The SQL migrating would run for `plan`, in order (`docket migrate --print`). */
export function planSql(plan: SchemaPlan): { label: string; sql: string }[] {
  return plan.pending.map((m) => {
    const migration = migrations.find((l) => l.version === m.version) as Migration
    return { label: `migration ${migration.file}`, sql: migration.sql }
  })
}

/** What this code carries. SQLite has no stored functions: its rules are TypeScript in this folder. */
export const codeSchema = (list: readonly Migration[] = migrations): CodeSchema => ({
  migrations: list,
  functions: [],
  docketVersion: docketVersion(),
})

function readSchema(db: Database.Database): DatabaseSchema {
  const table = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'docket_migrations'")
    .get()
  const rows = table
    ? (db.prepare('SELECT version FROM docket_migrations').all() as { version: number }[])
    : []
  return { appliedVersions: rows.map((r) => r.version), functions: [] }
}
