/**
 * Connecting to PostgreSQL for Docket: a pool whose connections all use
 * Docket's schema as their search_path, bigint parsed as a JavaScript number,
 * and migrations applied under an advisory lock so that many processes
 * starting at once apply each migration exactly once.
 */
import { createHash } from 'node:crypto'
import pg from 'pg'
import { invalidArgument } from '../../core/errors.js'
import type { Decode } from '../rows.js'
import { migrate } from './migrations.js'

export interface PgContext {
  pool: pg.Pool
  schema: string
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<R[]>
  /** Runs `fn` in a READ COMMITTED transaction on one connection; rolls back if it throws. */
  tx<T>(fn: (client: Queryable) => Promise<T>): Promise<T>
  /**
   * The time to pass as a statement's `now` parameter: null (the default) lets
   * each statement use the database clock, `now()`; a test's clock otherwise.
   */
  clockNow(): Date | null
}

export interface Queryable {
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<R[]>
}

export const decode: Decode = {
  date: (v) => (v instanceof Date ? v : new Date(String(v))),
  json: (v) => v,
}

const INT8_OID = 20
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID) return (value: string) => Number(value)
    return pg.types.getTypeParser(oid, format)
  },
}

export const DEFAULT_SCHEMA = 'docket'

/**
 * PostgreSQL cannot store a NUL character in text (SQLSTATE 22021, or 22P05
 * inside JSON). A string with one that got past validation (a worker id, a
 * job type, a filter) is bad input, not a server fault: say so.
 */
function refusedText(error: unknown): unknown {
  const code = (error as { code?: unknown })?.code
  if (code !== '22021' && code !== '22P05') return error
  return invalidArgument('text may not contain the NUL character (\\u0000)', [
    { path: '', message: 'contains a NUL character (\\u0000)' },
  ])
}

/** Splits Docket's own `schema` parameter off a postgres:// URL. */
export function parsePostgresUrl(url: string): { connectionString: string; schema: string } {
  const parsed = new URL(url)
  const schema = parsed.searchParams.get('schema') ?? DEFAULT_SCHEMA
  parsed.searchParams.delete('schema')
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw invalidArgument(`invalid schema '${schema}': expected a lower-case identifier`, [
      { path: 'url.schema', message: 'expected [a-z_][a-z0-9_]*' },
    ])
  }
  return { connectionString: parsed.toString(), schema }
}

/**
 * Names for parameterized statements, so that each connection parses and
 * plans them once (the hot paths run thousands of times a second). Only
 * statements with parameters are named: those are single statements by
 * necessity. Dynamic SQL (list filters) is bounded, and past the cap new texts
 * simply run unprepared.
 */
class StatementNames {
  readonly #names = new Map<string, string>()
  constructor(readonly cap = 1_000) {}

  nameFor(sql: string): string | null {
    let name = this.#names.get(sql)
    if (name === undefined) {
      if (this.#names.size >= this.cap) return null
      name = `docket_${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`
      this.#names.set(sql, name)
    }
    return name
  }
}

export async function openPostgres(url: string, poolSize = 10): Promise<PgContext> {
  const { connectionString, schema } = parsePostgresUrl(url)
  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    options: `-c search_path=${schema}`,
    types,
    application_name: 'docket',
  })
  // An idle client that loses its connection (a database restart) must not crash the process.
  pool.on('error', () => {})
  const statements = new StatementNames()
  const wrap = (q: pg.Pool | pg.PoolClient): Queryable => ({
    async query(sql, values) {
      return run(q, sql, values).catch((error) => {
        throw refusedText(error)
      })
    },
  })
  const run = async (q: pg.Pool | pg.PoolClient, sql: string, values?: unknown[]) => {
    const name = values?.length ? statements.nameFor(sql) : null
    if (name === null) return (await q.query(sql, values as unknown[])).rows
    try {
      return (await q.query({ name, text: sql, values: values as unknown[] })).rows
    } catch (error) {
      // Another process migrated the schema under a prepared statement ("cached plan
      // must not change result type"): run it unprepared rather than fail.
      if ((error as { code?: string }).code !== '0A000') throw error
      return (await q.query(sql, values as unknown[])).rows
    }
  }
  const ctx: PgContext = {
    pool,
    schema,
    query: wrap(pool).query,
    clockNow: () => null,
    async tx(fn) {
      const client = await pool.connect()
      // A checked-out client has no error listener of the pool's: without one, a connection
      // that drops mid-transaction (a database restart) throws from an event and kills the
      // process. The query in flight fails on its own, and the pool discards the dead client.
      client.on('error', ignore)
      try {
        await client.query('BEGIN')
        const result = await fn(wrap(client))
        await client.query('COMMIT')
        return result
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {})
        throw error
      } finally {
        client.removeListener('error', ignore)
        client.release()
      }
    },
  }
  try {
    await migrate(pool, schema)
  } catch (error) {
    await pool.end().catch(() => {})
    throw error
  }
  return ctx
}

const ignore = () => {}
