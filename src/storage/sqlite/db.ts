/**
 * Opening a SQLite database for Docket: WAL mode so readers never block the
 * writer, a busy timeout so several processes can share one file, and
 * migrations applied inside an IMMEDIATE transaction so two processes
 * opening a new file at once do not both apply them.
 *
 * better-sqlite3 is an optional dependency (it compiles native code): it is
 * loaded here, when a file is opened, and never on the PostgreSQL path, so
 * `npm install --omit=optional` gives a PostgreSQL-only install.
 */
import { mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import type Database from 'better-sqlite3'
import { DocketError } from '../../core/errors.js'
import { LeaseWatch, OwnLeases } from '../../core/lease-watch.js'
import type { Decode } from '../rows.js'
import { checkSchema, migrate } from './migrations.js'
import { registerSearchFunctions, type SearchBudget } from './search.js'

export type Db = Database.Database

export interface SqliteContext {
  db: Db
  /** Prepared statements, cached by their SQL text. */
  stmt(sql: string): Database.Statement
  /** Runs `fn` in an IMMEDIATE transaction: the write lock is taken up front, so no upgrade deadlocks. */
  tx<T>(fn: () => T): T
  now(): number
  /** Monotonic milliseconds (Clock.elapsedMs): what leases are judged by in this process (core/lease-watch.ts). */
  elapsed(): number
  /** Leases of other processes as this process last saw them. */
  watch: LeaseWatch
  /** Leases this process granted or extended, by its own elapsed time. */
  own: OwnLeases
  /** Wakes this process's workers of `queue` once the current transaction is over. */
  ready(queue: string): void
  /** The time budget of list statements that search (search.ts). */
  search: SearchBudget
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
  options: { migrate?: boolean; searchTimeoutMs?: number } = {},
): SqliteContext {
  const own = typeof target === 'string'
  if (own && target !== ':memory:') mkdirSync(dirname(target), { recursive: true })
  const db = own ? newDatabase(loadBetterSqlite3(), target) : target.database
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
    elapsed: () => performance.now(),
    watch: new LeaseWatch(),
    own: new OwnLeases(),
    ready: () => {},
    search: registerSearchFunctions(db, options.searchTimeoutMs),
  }
  if (options.migrate ?? true) migrate(db)
  else checkSchema(db)
  return ctx
}

/**
 * The better-sqlite3 constructor, or SQLITE_DRIVER_MISSING when the package is
 * not installed. Required (it is CommonJS) rather than imported, so that
 * opening stays synchronous, as better-sqlite3 itself is.
 */
export function loadBetterSqlite3(): typeof Database {
  try {
    return createRequire(import.meta.url)('better-sqlite3') as typeof Database
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string }
    if (code !== 'MODULE_NOT_FOUND' || !message?.includes("'better-sqlite3'")) throw error
    throw new DocketError(
      'SQLITE_DRIVER_MISSING',
      'SQLite needs the better-sqlite3 package, which is not installed (it is an optional dependency, left out by `npm install --omit=optional`): run `npm install better-sqlite3`, or give a postgres:// URL',
    )
  }
}

/** Opens the file; a package whose native part was never built (its install script did not run) is SQLITE_DRIVER_MISSING too. */
function newDatabase(BetterSqlite3: typeof Database, path: string): Db {
  try {
    return new BetterSqlite3(path)
  } catch (error) {
    if (!/Could not locate the bindings file/.test(String((error as Error).message))) throw error
    throw new DocketError(
      'SQLITE_DRIVER_MISSING',
      'SQLite needs better-sqlite3, which is installed without its native part (its install script did not run): run `npm rebuild better-sqlite3`',
    )
  }
}
