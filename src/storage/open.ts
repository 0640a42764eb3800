import { resolve } from 'node:path'
import { type Clock, elapsedMsOf } from '../core/clock.js'
import { invalidArgument } from '../core/errors.js'
import type { SqliteDatabase } from '../core/options.js'
import type { Store } from './store.js'

export const DEFAULT_SQLITE_PATH = './data/docket.db'

export type DatabaseTarget = { driver: 'sqlite'; path: string } | { driver: 'postgres'; url: string }

/**
 * Reads a database URL: nothing, a path, `file:path` or `sqlite:path` mean
 * SQLite; `postgres://` or `postgresql://` mean PostgreSQL.
 */
export function parseDatabaseUrl(url: string | undefined): DatabaseTarget {
  const value = (url ?? '').trim()
  if (value === '') return { driver: 'sqlite', path: resolve(DEFAULT_SQLITE_PATH) }
  if (/^postgres(ql)?:\/\//i.test(value)) return { driver: 'postgres', url: value }
  if (value === ':memory:') return { driver: 'sqlite', path: ':memory:' }
  const withoutScheme = value.replace(/^(file|sqlite):(\/\/)?/i, '')
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(withoutScheme)) {
    throw invalidArgument(
      `unsupported database URL '${value.replace(/\/\/[^@/]*@/, '//***@')}': use a file path, file:path, or postgres://`,
      [{ path: 'url', message: 'expected a file path, file:path, or postgres://' }],
    )
  }
  if (withoutScheme === '')
    throw invalidArgument('the database URL names no file', [{ path: 'url', message: 'empty path' }])
  return { driver: 'sqlite', path: withoutScheme === ':memory:' ? ':memory:' : resolve(withoutScheme) }
}

export interface StoreOptions {
  /** Replaces the time source (tests only, see DocketOptions.clock). */
  clock?: Clock
  /** PostgreSQL only: a direct URL for session-bound work, beside a pooled `url` (postgres/db.ts). */
  directUrl?: string
  /** SQLite only: the application's own better-sqlite3 handle, instead of a URL. */
  database?: SqliteDatabase
  /** False: check the schema and refuse one that is behind (SCHEMA_OLDER), never change it. */
  migrate?: boolean
  /** PostgreSQL only: a payload limit given to Docket.open, recorded in the database for add_job. */
  maxPayloadBytes?: number
  /** How long a job list with `search` or `where` may run (DocketOptions.searchTimeoutMs). */
  searchTimeoutMs?: number
}

/** Where the database is: from its URL, or the path of the application's SQLite handle. */
export function databaseTarget(url: string | undefined, database?: SqliteDatabase): DatabaseTarget {
  if (database === undefined) return parseDatabaseUrl(url)
  if (url !== undefined) {
    throw invalidArgument('give either a database URL or an open SQLite database, not both', [
      { path: 'database', message: 'not with a URL' },
    ])
  }
  return { driver: 'sqlite', path: database.name === '' ? ':memory:' : database.name }
}

export async function openStore(url: string | undefined, options: StoreOptions = {}): Promise<Store> {
  const target = databaseTarget(url, options.database)
  const { clock } = options
  if (target.driver === 'sqlite') {
    if (options.directUrl !== undefined)
      throw invalidArgument('directUrl is for PostgreSQL; this database is SQLite', [
        { path: 'directUrl', message: 'only with a postgres:// URL' },
      ])
    const { createSqliteStore } = await import('./sqlite/index.js')
    const where = options.database ? { database: options.database as never } : target.path
    return createSqliteStore(where, {
      ...(clock ? { now: () => clock.now().getTime(), elapsedMs: elapsedMsOf(clock) } : {}),
      migrate: options.migrate,
      searchTimeoutMs: options.searchTimeoutMs,
    })
  }
  const { createPostgresStore } = await import('./postgres/index.js')
  return createPostgresStore(target.url, options)
}
