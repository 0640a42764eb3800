/**
 * PostgreSQL schema, versioned and forward-only, created inside Docket's own
 * schema (`docket` unless the URL says `?schema=`). The migrations are the
 * frozen files migrations/NNNN_name.sql, bundled into migrations.generated.ts
 * by `npm run build:migrations`; to change the schema or a function, add the
 * next file (see migrations/README.md), never edit a shipped one. Times are
 * timestamptz(3): millisecond precision, so keyset cursors built from
 * JavaScript Dates compare exactly.
 *
 * The SQL names no schema. The pool's connections, and so this runner's, have
 * search_path set to Docket's schema (db.ts), which is where unqualified
 * CREATEs land; that is how one text serves every `?schema=`.
 */
import type pg from 'pg'
import { migrations as bundled } from './migrations.generated.js'

export interface Migration {
  version: number
  name: string
  /** The file under migrations/ it was bundled from. */
  file: string
  sql: string
}

export const migrations: readonly Migration[] = bundled

const ignore = () => {}

/**
 * Creates `schema` if need be and applies the migrations it has not recorded
 * in docket_migrations, each in its own transaction, under an advisory lock
 * per schema: many processes starting at once apply each migration exactly
 * once (the others wait on the lock, then find it applied). `pool` must set
 * search_path to `schema`. `list` is for tests that build a database at an
 * earlier version.
 */
export async function migrate(
  pool: pg.Pool,
  schema: string,
  list: readonly Migration[] = migrations,
): Promise<void> {
  const client = await pool.connect()
  // A connection dropped mid-migration fails the query in flight; without a listener it would
  // also throw from an event and kill the process.
  client.on('error', ignore)
  const lock = `docket:migrate:${schema}`
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [lock])
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
      await client.query(`CREATE TABLE IF NOT EXISTS docket_migrations (
        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
      const { rows } = await client.query('SELECT version FROM docket_migrations')
      const applied = new Set(rows.map((r) => Number(r.version)))
      for (const m of list) {
        if (applied.has(m.version)) continue
        await client.query('BEGIN')
        try {
          await client.query(m.sql)
          await client.query('INSERT INTO docket_migrations (version, name) VALUES ($1, $2)', [
            m.version,
            m.name,
          ])
          await client.query('COMMIT')
        } catch (error) {
          await client.query('ROLLBACK')
          throw error
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lock])
    }
  } finally {
    client.removeListener('error', ignore)
    client.release()
  }
}
