/**
 * `docket migrate --plan`, `--print` and `status` on a SQLite file: what
 * migrating would do, read without changing anything. A file that does not
 * exist is not created; it reads as an empty database.
 */
import { existsSync } from 'node:fs'
import type { CodeSchema, SchemaPlan } from '../../core/schema.js'
import { loadBetterSqlite3 } from './db.js'
import { codeSchema, inspectSchema, planSql } from './migrations.js'

export function inspectSqlite(path: string): {
  plan: SchemaPlan
  steps: { label: string; sql: string }[]
  code: CodeSchema
} {
  const BetterSqlite3 = loadBetterSqlite3()
  const db =
    path !== ':memory:' && existsSync(path)
      ? new BetterSqlite3(path, { readonly: true, fileMustExist: true })
      : new BetterSqlite3(':memory:')
  try {
    const plan = inspectSchema(db)
    return { plan, steps: planSql(plan), code: codeSchema() }
  } finally {
    db.close()
  }
}
