/**
 * Opening a SQLite database for Docket: WAL mode so readers never block the
 * writer, a busy timeout so several processes can share one file, and
 * migrations applied inside an IMMEDIATE transaction so two processes
 * opening a new file at once do not both apply them.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import type { Decode } from '../rows.js'
import { migrations } from './migrations.js'

export type Db = Database.Database

export interface SqliteContext {
  db: Db
  /** Prepared statements, cached by their SQL text. */
  stmt(sql: string): Database.Statement
  /** Runs `fn` in an IMMEDIATE transaction: the write lock is taken up front, so no upgrade deadlocks. */
  tx<T>(fn: () => T): T
  now(): number
  /** Wakes this process's workers of `queue` once the current transaction is over. */
  ready(queue: string): void
}

export const decode: Decode = {
  date: (v) => new Date(Number(v)),
  json: (v) => (v === null || v === undefined ? null : JSON.parse(String(v))),
}

export function openSqlite(path: string): SqliteContext {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('busy_timeout = 10000')
  db.pragma('foreign_keys = ON')
  db.pragma('temp_store = MEMORY')
  db.pragma('cache_size = -16000')

  const cache = new Map<string, Database.Statement>()
  const ctx: SqliteContext = {
    db,
    stmt(sql) {
      let s = cache.get(sql)
      if (!s) {
        s = db.prepare(sql)
        cache.set(sql, s)
      }
      return s
    },
    tx(fn) {
      return db.transaction(fn).immediate()
    },
    now: () => Date.now(),
    ready: () => {},
  }
  migrate(ctx)
  return ctx
}

function migrate(ctx: SqliteContext): void {
  ctx.db.exec(`CREATE TABLE IF NOT EXISTS docket_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`)
  ctx.tx(() => {
    const applied = new Set(
      (ctx.db.prepare('SELECT version FROM docket_migrations').all() as { version: number }[]).map(
        (r) => r.version,
      ),
    )
    for (const m of migrations) {
      if (applied.has(m.version)) continue
      ctx.db.exec(m.sql)
      ctx.db
        .prepare('INSERT INTO docket_migrations (version, name, applied_at) VALUES (?, ?, ?)')
        .run(m.version, m.name, Date.now())
    }
  })
}
