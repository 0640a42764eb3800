/**
 * Enqueueing in the application's own SQLite transactions: Docket opened on
 * the application's better-sqlite3 handle writes on that handle, so a job
 * added while the application's transaction is open commits or rolls back
 * with it, by hand (BEGIN … COMMIT) and through Kysely.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect, sql } from 'kysely'
import { Docket } from '../../src/index.js'

describe('enqueue in the application’s transaction [sqlite]', () => {
  let dir: string
  let db: Database.Database
  let docket: Docket

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'docket-tx-'))
    db = new Database(join(dir, 'app.db'))
    db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)')
    docket = await Docket.open({ database: db })
    await docket.createQueue({ name: 'emails' })
  })
  after(async () => {
    await docket.close()
    db.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const exists = async (id: string) => (await docket.findJob(id)) !== null
  const userCount = () => (db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n

  it('shares the file: Docket’s tables sit beside the application’s, in WAL mode', () => {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
      name: string
    }[]
    assert.ok(tables.some((t) => t.name === 'users') && tables.some((t) => t.name === 'jobs'))
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
  })

  it('a job added inside BEGIN … COMMIT commits with the application’s row; ROLLBACK takes both', async () => {
    db.exec('BEGIN IMMEDIATE')
    db.prepare('INSERT INTO users (name) VALUES (?)').run('ada')
    const kept = await docket.add('emails', 'welcome', { user: 'ada' })
    db.exec('COMMIT')
    assert.equal(await exists(kept.id), true)

    const users = userCount()
    db.exec('BEGIN IMMEDIATE')
    db.prepare('INSERT INTO users (name) VALUES (?)').run('bob')
    const dropped = await docket.add('emails', 'welcome', { user: 'bob' })
    const { jobs } = await docket.addBatch([{ queue: 'emails', type: 'x' }])
    db.exec('ROLLBACK')
    assert.equal(userCount(), users)
    assert.equal(await exists(dropped.id), false)
    assert.equal(await exists(jobs[0]!.id), false)
  })

  it('a refused add leaves the application’s transaction open and its rows in place', async () => {
    db.exec('BEGIN IMMEDIATE')
    db.prepare('INSERT INTO users (name) VALUES (?)').run('cy')
    await assert.rejects(docket.add('missing-queue', 't'), { code: 'NOT_FOUND' })
    assert.equal(db.inTransaction, true)
    const job = await docket.add('emails', 't')
    db.exec('COMMIT')
    assert.ok((db.prepare("SELECT 1 FROM users WHERE name = 'cy'").get() as object | undefined) !== undefined)
    assert.equal(await exists(job.id), true)
  })

  it('commits and rolls back with a Kysely transaction on the same handle', async () => {
    const k = new Kysely<{ users: { id: number; name: string } }>({
      dialect: new SqliteDialect({ database: db }),
    })
    const committed = await k.transaction().execute(async (trx) => {
      await trx.insertInto('users').values({ id: 1000, name: 'kysely' }).execute()
      return (await docket.add('emails', 'kysely-commit')).id
    })
    let rolledBack = ''
    await assert.rejects(
      k.transaction().execute(async (trx) => {
        await sql`INSERT INTO users (name) VALUES ('gone')`.execute(trx)
        rolledBack = (await docket.add('emails', 'kysely-rollback')).id
        throw new Error('the business write failed')
      }),
      /business write failed/,
    )
    assert.equal(await exists(committed), true)
    assert.equal(await exists(rolledBack), false)
    assert.equal(
      (db.prepare("SELECT count(*) AS n FROM users WHERE name = 'gone'").get() as { n: number }).n,
      0,
    )
  })

  it('refuses a client on SQLite, a URL with a handle, and something that is not a handle', async () => {
    await assert.rejects(
      docket.add({ queue: 'emails', type: 't' }, { client: { query: async () => ({ rows: [] }) } }),
      {
        code: 'INVALID_ARGUMENT',
        message: /Docket\.open\(\{ database: db \}\)/,
      },
    )
    await assert.rejects(Docket.open(join(dir, 'other.db'), { database: db }), { code: 'INVALID_ARGUMENT' })
    await assert.rejects(Docket.open({ database: { name: 'x' } as never }), {
      code: 'INVALID_ARGUMENT',
      message: /better-sqlite3/,
    })
  })

  it('close() leaves the application’s handle open', async () => {
    const second = await Docket.open({ database: db })
    await second.close()
    assert.equal(db.open, true)
    assert.equal(userCount() >= 1, true)
  })
})
