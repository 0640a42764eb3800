/**
 * PostgreSQL schema, versioned and forward-only, created inside Docket's own
 * schema (`docket` unless the URL says `?schema=`). The migrations are the
 * frozen files migrations/NNNN_name.sql (tables, indexes, data moves), bundled
 * into migrations.generated.ts by `npm run build:migrations`; to change the
 * schema, add the next file (see migrations/README.md), never edit a shipped
 * one. Functions are living files, functions/<name>.sql (functions.generated.ts):
 * to change one, edit its file. Times are
 * timestamptz(3): millisecond precision, so keyset cursors built from
 * JavaScript Dates compare exactly.
 *
 * The SQL names no schema. The pool's connections, and so this runner's, have
 * search_path set to Docket's schema (db.ts), which is where unqualified
 * CREATEs land; that is how one text serves every `?schema=`.
 */
import type pg from 'pg'
import {
  type CodeSchema,
  type DatabaseSchema,
  functionsToApply,
  planSchema,
  type SchemaPlan,
  schemaRefusal,
} from '../../core/schema.js'
import { docketVersion } from '../docket-version.js'
import { functions as bundledFunctions } from './functions.generated.js'
import { migrations as bundled } from './migrations.generated.js'

export interface Migration {
  version: number
  name: string
  /** The file under migrations/ it was bundled from. */
  file: string
  sql: string
}

/** A living function: functions/<name>.sql, re-applied when its sha256 is not the recorded one. */
export interface LivingFunction {
  name: string
  file: string
  sha256: string
  sql: string
}

export const migrations: readonly Migration[] = bundled
/** In dependency order (scripts/build-migrations.mjs sorts them by their `-- requires:` lines). */
export const functions: readonly LivingFunction[] = bundledFunctions

const ignore = () => {}

/**
 * Creates `schema` if need be, applies the migrations it has not recorded in
 * docket_migrations (each in its own transaction), then re-applies the living
 * functions whose sha256 differs from the one recorded in docket_functions
 * (in one transaction), all under an advisory lock per schema: many processes
 * starting at once apply each change exactly once (the others wait on the
 * lock, then find it applied). Refuses, changing nothing, a schema with a
 * migration this code does not know (SCHEMA_NEWER). `pool` must set
 * search_path to `schema`. `list` is for tests that build a database at an
 * earlier version: that database gets the functions its migrations defined,
 * as the release it stands for had, unless `living` says otherwise.
 */
export async function migrate(
  pool: pg.Pool,
  schema: string,
  list: readonly Migration[] = migrations,
  living: readonly LivingFunction[] = list === migrations ? functions : [],
): Promise<void> {
  await withMigrationLock(pool, schema, async (client) => {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
    await client.query(`CREATE TABLE IF NOT EXISTS docket_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
    await client.query(`CREATE TABLE IF NOT EXISTS docket_functions (
      name text PRIMARY KEY, sha256 text NOT NULL, docket_version text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`)
    const code = codeSchema(list, living)
    const plan = planSchema(code, await readSchema(client))
    const refusal = schemaRefusal(plan, code, true)
    if (refusal) throw refusal
    for (const m of plan.pending) {
      const migration = list.find((l) => l.version === m.version) as Migration
      await inTransaction(client, async () => {
        await client.query(migration.sql)
        await client.query('INSERT INTO docket_migrations (version, name) VALUES ($1, $2)', [
          migration.version,
          migration.name,
        ])
      })
    }
    const stale = new Set(functionsToApply(plan))
    if (stale.size === 0) return
    await inTransaction(client, async () => {
      for (const f of living) {
        if (!stale.has(f.name)) continue
        await client.query(f.sql)
        await client.query(
          `INSERT INTO docket_functions (name, sha256, docket_version) VALUES ($1, $2, $3)
           ON CONFLICT (name) DO UPDATE SET sha256 = excluded.sha256,
             docket_version = excluded.docket_version, applied_at = now()`,
          [f.name, f.sha256, docketVersion()],
        )
      }
    })
  })
}

/**
 * For `migrate: false`: changes nothing, and refuses a schema this code
 * cannot use as it is, newer (SCHEMA_NEWER) or older (SCHEMA_OLDER).
 */
export async function checkSchema(pool: pg.Pool): Promise<void> {
  const plan = await inspectSchema(pool)
  const refusal = schemaRefusal(plan, codeSchema(), false)
  if (refusal) throw refusal
}

/** What migrating would do, read without changing anything (`docket migrate --plan`, `status`). */
export async function inspectSchema(pool: pg.Pool): Promise<SchemaPlan> {
  const client = await pool.connect()
  client.on('error', ignore)
  try {
    return planSchema(codeSchema(), await readSchema(client))
  } finally {
    client.removeListener('error', ignore)
    client.release()
  }
}

/** The SQL migrating would run for `plan`, in order (`docket migrate --print`). */
export function planSql(plan: SchemaPlan): { label: string; sql: string }[] {
  const stale = new Set(functionsToApply(plan))
  return [
    ...plan.pending.map((m) => {
      const migration = migrations.find((l) => l.version === m.version) as Migration
      return { label: `migration ${migration.file}`, sql: migration.sql }
    }),
    ...functions
      .filter((f) => stale.has(f.name))
      .map((f) => ({ label: `function functions/${f.file}`, sql: f.sql })),
  ]
}

/** What this code carries: by default, every migration and living function it ships. */
export const codeSchema = (
  list: readonly Migration[] = migrations,
  living: readonly LivingFunction[] = functions,
): CodeSchema => ({
  migrations: list,
  functions: living,
  docketVersion: docketVersion(),
})

/** The schema's records, on a connection whose search_path is the schema; empty where a table is missing. */
async function readSchema(client: pg.PoolClient): Promise<DatabaseSchema> {
  const { rows: tables } = await client.query(
    `SELECT to_regclass('docket_migrations') IS NOT NULL AS m, to_regclass('docket_functions') IS NOT NULL AS f`,
  )
  const applied = tables[0].m ? (await client.query('SELECT version FROM docket_migrations')).rows : []
  const recorded = tables[0].f
    ? (await client.query('SELECT name, sha256, docket_version FROM docket_functions')).rows
    : []
  return {
    appliedVersions: applied.map((r) => Number(r.version)),
    functions: recorded.map((r) => ({ name: r.name, sha256: r.sha256, docketVersion: r.docket_version })),
  }
}

async function inTransaction(client: pg.PoolClient, fn: () => Promise<void>): Promise<void> {
  await client.query('BEGIN')
  try {
    await fn()
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK')
    throw error
  }
}

async function withMigrationLock(
  pool: pg.Pool,
  schema: string,
  fn: (client: pg.PoolClient) => Promise<void>,
): Promise<void> {
  const client = await pool.connect()
  // A connection dropped mid-migration fails the query in flight; without a listener it would
  // also throw from an event and kill the process.
  client.on('error', ignore)
  const lock = `docket:migrate:${schema}`
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [lock])
    try {
      await fn(client)
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lock])
    }
  } finally {
    client.removeListener('error', ignore)
    client.release()
  }
}
