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
import { checkSchema, migrate } from './migrations.js'

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

/**
 * Opens the file at `path`, or takes the application's own handle: then
 * Docket's writes join whatever transaction the application has open on it,
 * and only what Docket needs is set on it (WAL, a busy timeout, foreign keys);
 * its page cache and temp store stay the application's choice.
 */
export function openSqlite(
  target: string | { database: Db },
  options: { migrate?: boolean } = {},
): SqliteContext {
  const own = typeof target === 'string'
  if (own && target !== ':memory:') mkdirSync(dirname(target), { recursive: true })
  const db = own ? new Database(target) : target.database
  if (db.name !== ':memory:' && !db.memory) db.pragma('journal_mode = WAL')
  if (Number(db.pragma('busy_timeout', { simple: true })) < 10_000) db.pragma('busy_timeout = 10000')
  db.pragma('foreign_keys = ON')
  if (own) {
    db.pragma('synchronous = NORMAL')
    db.pragma('temp_store = MEMORY')
    db.pragma('cache_size = -16000')
  }

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
  if (options.migrate ?? true) migrate(db)
  else checkSchema(db)
  return ctx
}
