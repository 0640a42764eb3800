/**
 * `docket migrate --plan`, `--print` and `status` on a SQLite file: what
 * migrating would do, read without changing anything. A file that does not
 * exist is not created; it reads as an empty database.
 */
import { existsSync } from 'node:fs'
import type { SchemaPlan } from '../../core/schema.js'
import { inspectSchema, planSql } from './migrations.js'

export async function inspectSqlite(
  path: string,
): Promise<{ plan: SchemaPlan; steps: { label: string; sql: string }[] }> {
  const { default: Database } = await import('better-sqlite3')
  const db =
    path !== ':memory:' && existsSync(path)
      ? new Database(path, { readonly: true, fileMustExist: true })
      : new Database(':memory:')
  try {
    const plan = inspectSchema(db)
    return { plan, steps: planSql(plan) }
  } finally {
    db.close()
  }
}
