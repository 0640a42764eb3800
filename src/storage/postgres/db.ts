/**
 * Connecting to PostgreSQL for Docket: a pool whose connections all use
 * Docket's schema as their search_path (at startup, per connection or per
 * transaction, depending on the pooler in between: see PostgresSettings),
 * bigint parsed as a JavaScript number, and migrations applied under an
 * advisory lock, on a direct connection, so that many processes starting at
 * once apply each migration exactly once.
 */
import { createHash } from 'node:crypto'
import pg from 'pg'
import { invalidArgument } from '../../core/errors.js'
import type { CodeSchema, SchemaPlan } from '../../core/schema.js'
import type { Decode } from '../rows.js'
import { checkSchema, codeSchema, inspectSchema, migrate, planSql } from './migrations.js'

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
  /** A job list's statement_timeout when it has `search` or `where` (read.ts). */
  searchTimeoutMs: number
}

export interface Queryable {
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<R[]>
}

/** How long one job list with `search` or `where` may run on PostgreSQL, by default. */
export const PG_SEARCH_TIMEOUT_MS = 10_000

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
export function refusedText(error: unknown): unknown {
  const code = (error as { code?: unknown })?.code
  if (code !== '22021' && code !== '22P05') return error
  return invalidArgument('text may not contain the NUL character (\\u0000)', [
    { path: '', message: 'contains a NUL character (\\u0000)' },
  ])
}

/**
 * How Docket's connections reach PostgreSQL, from its own parameters on a
 * postgres:// URL (removed before the URL goes to the driver):
 * - `schema`: Docket's schema (default `docket`);
 * - `pooler`: `none` (the default: a direct connection, search_path set at
 *   startup), `session` (a session-mode pooler: search_path set once per
 *   connection, since PgBouncer refuses the startup `options`) or
 *   `transaction` (a transaction-mode pooler: search_path set in every
 *   transaction, every statement in one; needs a direct URL beside it);
 * - `statements`: `named` (prepared once per connection, the default) or
 *   `unnamed` (parsed every time; the default with `pooler=transaction`, whose
 *   server connections change under the client).
 */
export interface PostgresSettings {
  connectionString: string
  schema: string
  pooler: 'none' | 'session' | 'transaction'
  namedStatements: boolean
}

const POOLERS = ['none', 'session', 'transaction'] as const

export function parsePostgresUrl(url: string): PostgresSettings {
  const parsed = new URL(url)
  const take = (name: string) => {
    const value = parsed.searchParams.get(name)
    parsed.searchParams.delete(name)
    return value
  }
  const schema = take('schema') ?? DEFAULT_SCHEMA
  const pooler = take('pooler') ?? 'none'
  const statements = take('statements')
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw invalidArgument(`invalid schema '${schema}': expected a lower-case identifier`, [
      { path: 'url.schema', message: 'expected [a-z_][a-z0-9_]*' },
    ])
  }
  if (!(POOLERS as readonly string[]).includes(pooler)) {
    throw invalidArgument(`invalid pooler '${pooler}': expected none, session or transaction`, [
      { path: 'url.pooler', message: 'expected none, session or transaction' },
    ])
  }
  if (statements !== null && statements !== 'named' && statements !== 'unnamed') {
    throw invalidArgument(`invalid statements '${statements}': expected named or unnamed`, [
      { path: 'url.statements', message: 'expected named or unnamed' },
    ])
  }
  return {
    connectionString: parsed.toString(),
    schema,
    pooler: pooler as PostgresSettings['pooler'],
    namedStatements: (statements ?? (pooler === 'transaction' ? 'unnamed' : 'named')) === 'named',
  }
}

/**
 * Names for parameterized statements, so that each connection parses and
 * plans them once (the hot paths run thousands of times a second). Only
 * statements with parameters are named: those are single statements by
 * necessity. Dynamic SQL (list filters) is bounded, and past the cap new texts
 * simply run unprepared.
 */
export class StatementNames {
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

export interface PostgresOptions {
  /** A URL straight to the server, for session-bound work (migrations' lock, LISTEN) when `url` is a pooler's. */
  directUrl?: string
  poolSize?: number
  /** False: check the schema (SCHEMA_OLDER when behind), never change it. */
  migrate?: boolean
}

/** The connection string LISTEN and the migrations use: the direct URL's, else the main one's. */
export function sessionConnectionString(url: string, directUrl: string | undefined): string {
  const main = parsePostgresUrl(url)
  if (directUrl === undefined) {
    if (main.pooler === 'transaction')
      throw invalidArgument(
        'behind a transaction-mode pooler, Docket needs a direct URL too (directUrl, --direct-url, DOCKET_DIRECT_DATABASE_URL): LISTEN and the migrations’ lock need a session of their own',
        [{ path: 'directUrl', message: 'required with pooler=transaction' }],
      )
    return main.connectionString
  }
  const direct = parsePostgresUrl(directUrl)
  if (direct.schema !== main.schema && new URL(directUrl).searchParams.has('schema'))
    throw invalidArgument('directUrl names another schema than the database URL', [
      { path: 'directUrl', message: `expected schema ${main.schema} or none` },
    ])
  return direct.connectionString
}

export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<PgContext> {
  const settings = parsePostgresUrl(url)
  const { connectionString, schema, pooler } = settings
  const direct = sessionConnectionString(url, options.directUrl)
  const pool = new pg.Pool({
    connectionString,
    max: options.poolSize ?? 10,
    // A pooler (PgBouncer) refuses the startup `options` parameter: search_path is set below instead.
    ...(pooler === 'none' ? { options: `-c search_path=${schema}` } : {}),
    types,
    application_name: 'docket',
  })
  // An idle client that loses its connection (a database restart) must not crash the process.
  pool.on('error', () => {})
  // Session mode: the pooler's server connection is this client's until it disconnects.
  // Queued first, so it runs before anything the pool's user sends.
  if (pooler === 'session')
    pool.on('connect', (c) => void c.query(`SET search_path TO ${schema}`).catch(ignore))
  // Transaction mode: only a transaction keeps one server connection, so search_path is set in each.
  const begin = pooler === 'transaction' ? `BEGIN; SET LOCAL search_path TO ${schema}` : 'BEGIN'
  const statements = settings.namedStatements ? new StatementNames() : null
  const wrap = (q: pg.Pool | pg.PoolClient): Queryable => ({
    async query(sql, values) {
      return run(q, sql, values).catch((error) => {
        throw refusedText(error)
      })
    },
  })
  const run = async (q: pg.Pool | pg.PoolClient, sql: string, values?: unknown[]) => {
    const name = values?.length ? (statements?.nameFor(sql) ?? null) : null
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
  const tx: PgContext['tx'] = async (fn) => {
    const client = await pool.connect()
    // A checked-out client has no error listener of the pool's: without one, a connection
    // that drops mid-transaction (a database restart) throws from an event and kills the
    // process. The query in flight fails on its own, and the pool discards the dead client.
    client.on('error', ignore)
    try {
      await client.query(begin)
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
  }
  const ctx: PgContext = {
    pool,
    schema,
    // Behind a transaction-mode pooler a statement on its own would run on whichever server
    // connection is free, with whatever search_path it has: each gets a transaction.
    query: pooler === 'transaction' ? (sql, values) => tx((c) => c.query(sql, values)) : wrap(pool).query,
    tx,
    clockNow: () => null,
    searchTimeoutMs: PG_SEARCH_TIMEOUT_MS,
  }
  try {
    await migrateOnce(
      direct,
      schema,
      options.directUrl === undefined && pooler === 'session',
      options.migrate ?? true,
    )
  } catch (error) {
    await pool.end().catch(() => {})
    throw error
  }
  return ctx
}

/**
 * Migrations hold a session advisory lock across several transactions, so
 * they run on a connection of their own: straight to the server, or through
 * a session-mode pooler (which keeps the session, but refuses startup options).
 */
async function migrateOnce(
  connectionString: string,
  schema: string,
  viaSessionPooler: boolean,
  apply: boolean,
): Promise<void> {
  await withSchemaConnection(connectionString, schema, viaSessionPooler, (pool) =>
    apply ? migrate(pool, schema) : checkSchema(pool),
  )
}

/** What `docket migrate` would do on `url`'s schema, and the SQL it would run; changes nothing. */
export async function inspectPostgres(
  url: string,
  directUrl?: string,
): Promise<{ plan: SchemaPlan; steps: { label: string; sql: string }[]; code: CodeSchema }> {
  const { schema, pooler } = parsePostgresUrl(url)
  const direct = sessionConnectionString(url, directUrl)
  return withSchemaConnection(
    direct,
    schema,
    directUrl === undefined && pooler === 'session',
    async (pool) => {
      const plan = await inspectSchema(pool)
      return { plan, steps: planSql(plan), code: codeSchema() }
    },
  )
}

async function withSchemaConnection<T>(
  connectionString: string,
  schema: string,
  viaSessionPooler: boolean,
  fn: (pool: pg.Pool) => Promise<T>,
): Promise<T> {
  const pool = new pg.Pool({
    connectionString,
    max: 1,
    ...(viaSessionPooler ? {} : { options: `-c search_path=${schema}` }),
    types,
  })
  pool.on('error', ignore)
  if (viaSessionPooler) pool.on('connect', (c) => void c.query(`SET search_path TO ${schema}`).catch(ignore))
  try {
    return await fn(pool)
  } finally {
    await pool.end().catch(() => {})
  }
}

const ignore = () => {}
