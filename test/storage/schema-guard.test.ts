/**
 * The schema guard and the living functions, on real databases of both
 * drivers: a schema newer than the code is refused (SCHEMA_NEWER) and left
 * as it was; with `migrate: false` a schema that is behind is refused
 * (SCHEMA_OLDER) and left as it was, and one that is current opens; on
 * PostgreSQL, a function file edited in a scratch copy is what runs after
 * the next migrate, the functions in the database are exactly the files, and
 * a function a newer Docket wrote is never put back by an older one.
 */
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import Database from 'better-sqlite3'
import pg from 'pg'
import { functionPaths, readFunctions } from '../../scripts/build-migrations.mjs'
import { isDocketError } from '../../src/core/errors.js'
import { Docket } from '../../src/index.js'
import { parsePostgresUrl } from '../../src/storage/postgres/db.js'
import {
  functions as livingFunctions,
  migrate as migratePostgres,
  migrations as postgresMigrations,
} from '../../src/storage/postgres/migrations.js'
import { inspectDatabase } from '../../src/storage/schema.js'
import {
  migrate as migrateSqlite,
  migrations as sqliteMigrations,
} from '../../src/storage/sqlite/migrations.js'
import { freshPostgresSchema } from '../support/postgres.js'

type Row = Record<string, unknown>

interface Target {
  url: string
  latest: number
  /** Builds the database at version k with the runner, as the Docket of that version left it. */
  migrateTo(k: number): Promise<void>
  query(sql: string, values?: unknown[]): Promise<Row[]>
  cleanup(): Promise<void>
}

async function sqliteTarget(): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'docket-guard-'))
  const path = join(dir, 'docket.db')
  const withDb = <T>(fn: (db: Database.Database) => T): T => {
    const db = new Database(path)
    try {
      return fn(db)
    } finally {
      db.close()
    }
  }
  return {
    url: path,
    latest: sqliteMigrations.length,
    migrateTo: async (k) => withDb((db) => migrateSqlite(db, sqliteMigrations.slice(0, k))),
    query: async (sql, values = []) =>
      withDb((db) => {
        const s = db.prepare(sql)
        if (s.reader) return s.all(...values) as Row[]
        s.run(...values)
        return []
      }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  }
}

async function postgresTarget(): Promise<Target & { pool: pg.Pool; schema: string }> {
  const fresh = await freshPostgresSchema()
  const { connectionString } = parsePostgresUrl(fresh.url)
  const pool = new pg.Pool({ connectionString, max: 2, options: `-c search_path=${fresh.schema}` })
  return {
    url: fresh.url,
    pool,
    schema: fresh.schema,
    latest: postgresMigrations.length,
    migrateTo: (k) =>
      migratePostgres(
        pool,
        fresh.schema,
        k === postgresMigrations.length ? postgresMigrations : postgresMigrations.slice(0, k),
      ),
    query: async (sql, values) => (await pool.query(sql, values)).rows as Row[],
    cleanup: async () => {
      await pool.end()
      await fresh.drop()
    },
  }
}

const versions = async (t: Target) =>
  (await t.query('SELECT version FROM docket_migrations ORDER BY version')).map((r) => Number(r.version))

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1)

async function refusal(open: Promise<Docket>): Promise<Error> {
  try {
    const docket = await open
    await docket.close()
  } catch (error) {
    return error as Error
  }
  assert.fail('expected Docket.open to refuse the database')
}

for (const driver of ['sqlite', 'postgres'] as const) {
  const targetFor = () => (driver === 'sqlite' ? sqliteTarget() : postgresTarget())

  describe(`schema guard [${driver}]`, () => {
    it('a schema with a migration this code does not know is refused with SCHEMA_NEWER, with or without migrate, and left as it was', async () => {
      const t = await targetFor()
      try {
        await t.migrateTo(t.latest)
        const future = t.latest + 1
        await t.query(
          driver === 'sqlite'
            ? 'INSERT INTO docket_migrations (version, name, applied_at) VALUES (?, ?, 0)'
            : 'INSERT INTO docket_migrations (version, name) VALUES ($1, $2)',
          [future, 'from the future'],
        )
        for (const migrate of [true, false]) {
          const error = await refusal(Docket.open(t.url, { migrate }))
          assert.ok(isDocketError(error, 'SCHEMA_NEWER'), `migrate: ${migrate}: ${error}`)
          assert.match(error.message, new RegExp(`at migration ${future}`))
          assert.match(error.message, new RegExp(`knows up to ${t.latest}`))
          assert.match(error.message, /Upgrade this process/)
          assert.deepEqual((error as { details?: unknown }).details, {
            databaseVersion: future,
            codeVersion: t.latest,
            unknownVersions: [future],
          })
        }
        assert.deepEqual(await versions(t), [...range(t.latest), future])
        const report = await inspectDatabase(t.url)
        assert.deepEqual(report.plan.unknownVersions, [future])
      } finally {
        await t.cleanup()
      }
    })

    it('with migrate: false, a schema that is behind is refused with SCHEMA_OLDER and left unchanged; once migrated it opens', async () => {
      const t = await targetFor()
      try {
        await t.migrateTo(t.latest - 1)
        const error = await refusal(Docket.open(t.url, { migrate: false }))
        assert.ok(isDocketError(error, 'SCHEMA_OLDER'), String(error))
        assert.match(error.message, /run `docket migrate`/)
        assert.match(error.message, new RegExp(`1 migration\\(s\\) pending \\(${t.latest}…${t.latest}\\)`))
        assert.deepEqual(await versions(t), range(t.latest - 1), 'nothing was applied')

        const migrated = await Docket.open(t.url)
        await migrated.close()
        const docket = await Docket.open(t.url, { migrate: false })
        try {
          await docket.createQueue({ name: 'after-migrate' })
          const job = await docket.add('after-migrate', 'ok', {})
          assert.equal((await docket.getJob(job.id)).status, 'waiting')
        } finally {
          await docket.close()
        }
        assert.deepEqual(await versions(t), range(t.latest))
      } finally {
        await t.cleanup()
      }
    })

    it('with migrate: false, an empty database is refused with SCHEMA_OLDER and not created', async () => {
      const t = await targetFor()
      try {
        const error = await refusal(Docket.open(t.url, { migrate: false }))
        assert.ok(isDocketError(error, 'SCHEMA_OLDER'), String(error))
        assert.match(error.message, new RegExp(`${t.latest} migration\\(s\\) pending \\(1…${t.latest}\\)`))
        const tables =
          driver === 'sqlite'
            ? await t.query("SELECT name FROM sqlite_master WHERE type = 'table'")
            : await t.query('SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()')
        assert.deepEqual(tables, [], 'no table was created')
      } finally {
        await t.cleanup()
      }
    })
  })
}

describe('living functions [postgres]', () => {
  it('the functions in the schema are exactly the living files, each recorded with its sha256', async () => {
    const t = await postgresTarget()
    try {
      await t.migrateTo(t.latest)
      const inSchema = (
        await t.query(`SELECT proname FROM pg_proc WHERE pronamespace = current_schema()::regnamespace`)
      ).map((r) => r.proname)
      assert.deepEqual(inSchema.sort(), livingFunctions.map((f) => f.name).sort())
      const recorded = await t.query('SELECT name, sha256 FROM docket_functions ORDER BY name')
      assert.deepEqual(
        recorded,
        livingFunctions
          .map((f) => ({ name: f.name, sha256: f.sha256 }))
          .sort((a, b) => a.name.localeCompare(b.name)),
      )
    } finally {
      await t.cleanup()
    }
  })

  it('a function file edited in a scratch copy is what runs after the next migrate, and only a changed file is applied', async () => {
    const t = await postgresTarget()
    const scratch = mkdtempSync(join(tmpdir(), 'docket-functions-'))
    try {
      await t.migrateTo(t.latest)
      cpSync(functionPaths().dir, scratch, { recursive: true })
      // An observable edit: a fair queue's lock key in another space, read back by calling the function.
      const file = join(scratch, 'group_turns_lock_key.sql')
      const text = readFileSync(file, 'utf8')
      const edited = text.replace("current_schema() || '/' || p_queue", "'edited/' || p_queue")
      assert.notEqual(edited, text, 'the edit applies to the file as it is')
      writeFileSync(file, edited)
      const scratchList = readFunctions(scratch)
      const before = await t.query('SELECT name, applied_at FROM docket_functions ORDER BY name')

      await migratePostgres(t.pool, t.schema, postgresMigrations, scratchList)
      const [key] = await t.query("SELECT group_turns_lock_key('q') AS k, hashtext('edited/q') AS want")
      assert.equal(key?.k, key?.want, 'the edited text runs')
      const after = await t.query('SELECT name, applied_at, sha256 FROM docket_functions ORDER BY name')
      const stamp = (v: unknown) => (v as Date).getTime()
      const changed = after.filter((r, i) => stamp(r.applied_at) !== stamp(before[i]?.applied_at))
      assert.deepEqual(
        changed.map((r) => r.name),
        ['group_turns_lock_key'],
        'only the edited file was applied',
      )
      assert.equal(changed[0]?.sha256, scratchList.find((f) => f.name === 'group_turns_lock_key')?.sha256)

      // The shipped text comes back on the next open: same Docket version, another checksum.
      const docket = await Docket.open(t.url)
      await docket.close()
      const [restored] = await t.query(
        `SELECT group_turns_lock_key('q') AS k, hashtext(current_schema() || '/q') AS want`,
      )
      assert.equal(restored?.k, restored?.want)
    } finally {
      rmSync(scratch, { recursive: true, force: true })
      await t.cleanup()
    }
  })

  it('a function a newer Docket wrote is left as it is, and does not stop an open with migrate: false', async () => {
    const t = await postgresTarget()
    try {
      await t.migrateTo(t.latest)
      await t.query(
        "UPDATE docket_functions SET sha256 = 'newer text', docket_version = '999.0.0' WHERE name = 'claim_jobs'",
      )
      for (const migrate of [true, false]) {
        const docket = await Docket.open(t.url, { migrate })
        await docket.close()
      }
      const [row] = await t.query(
        "SELECT sha256, docket_version FROM docket_functions WHERE name = 'claim_jobs'",
      )
      assert.deepEqual(row, { sha256: 'newer text', docket_version: '999.0.0' })
      const report = await inspectDatabase(t.url)
      assert.equal(report.plan.functions.find((f) => f.name === 'claim_jobs')?.state, 'newer')
      assert.deepEqual(report.steps, [])
    } finally {
      await t.cleanup()
    }
  })

  it('with migrate: false, a function out of date is refused with SCHEMA_OLDER, naming it', async () => {
    const t = await postgresTarget()
    try {
      await t.migrateTo(t.latest)
      await t.query("UPDATE docket_functions SET sha256 = 'older text' WHERE name = 'complete_jobs'")
      const error = await refusal(Docket.open(t.url, { migrate: false }))
      assert.ok(isDocketError(error, 'SCHEMA_OLDER'), String(error))
      assert.match(error.message, /function\(s\) out of date: complete_jobs/)
      const report = await inspectDatabase(t.url)
      assert.deepEqual(
        report.steps.map((s) => s.label),
        ['function functions/complete_jobs.sql'],
      )
    } finally {
      await t.cleanup()
    }
  })

  it('a database of the release before living functions (every migration, no docket_functions) gets every file on open', async () => {
    const t = await postgresTarget()
    try {
      await migratePostgres(t.pool, t.schema, postgresMigrations, [])
      await t.query('DROP TABLE docket_functions')
      const docket = await Docket.open(t.url)
      await docket.close()
      const recorded = await t.query('SELECT name FROM docket_functions ORDER BY name')
      assert.deepEqual(
        recorded.map((r) => r.name),
        livingFunctions.map((f) => f.name).sort(),
      )
      const [lease] = await t.query(
        "SELECT count(*)::int AS n FROM pg_proc WHERE proname = 'lease_jobs' AND pronamespace = current_schema()::regnamespace",
      )
      assert.equal(lease?.n, 1)
    } finally {
      await t.cleanup()
    }
  })
})
