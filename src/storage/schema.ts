/**
 * The schema of a database named by its URL, inspected without changing it:
 * the applied and pending migrations and, on PostgreSQL, the living
 * functions' checksums (`docket migrate --plan`, `--print`, `status`). The
 * decision of what is current, pending or newer is core/schema.ts's.
 */
import type { CodeSchema, SchemaPlan } from '../core/schema.js'
import { parseDatabaseUrl } from './open.js'

export interface SchemaReport {
  driver: 'sqlite' | 'postgres'
  /** The SQLite file, or the PostgreSQL schema. */
  where: string
  plan: SchemaPlan
  /** What migrating would run, in order: each pending migration, then each function to (re)write. */
  steps: { label: string; sql: string }[]
  /** What this code carries, that the plan was made against. */
  code: CodeSchema
}

export async function inspectDatabase(
  url: string | undefined,
  options: { directUrl?: string } = {},
): Promise<SchemaReport> {
  const target = parseDatabaseUrl(url)
  if (target.driver === 'sqlite') {
    const { inspectSqlite } = await import('./sqlite/inspect.js')
    return { driver: 'sqlite', where: target.path, ...inspectSqlite(target.path) }
  }
  const { inspectPostgres, parsePostgresUrl } = await import('./postgres/db.js')
  return {
    driver: 'postgres',
    where: `schema ${parsePostgresUrl(target.url).schema}`,
    ...(await inspectPostgres(target.url, options.directUrl)),
  }
}
