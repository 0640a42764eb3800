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
import { migrate } from './migrations.js'

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
  migrate(db)
  return ctx
}
