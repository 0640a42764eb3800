/**
 * better-sqlite3 is an optional dependency: an install without it
 * (`npm install --omit=optional`) works on PostgreSQL, and a SQLite open says
 * what to install. The package is hidden from this process (its own, as the
 * test runner gives each file one) by a resolve hook, as if never installed.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { registerHooks } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { Docket, isDocketError } from '../../src/index.js'
import { freshPostgresSchema } from '../support/postgres.js'

const asked: string[] = []
registerHooks({
  resolve(specifier, context, next) {
    if (specifier === 'better-sqlite3' || specifier.startsWith('better-sqlite3/')) {
      asked.push(specifier)
      throw Object.assign(new Error(`Cannot find module '${specifier}'`), { code: 'MODULE_NOT_FOUND' })
    }
    return next(specifier, context)
  },
})

describe('without better-sqlite3', () => {
  const dir = mkdtempSync(join(tmpdir(), 'docket-no-sqlite-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('Docket.open on a SQLite file is SQLITE_DRIVER_MISSING, saying what to install', async () => {
    await assert.rejects(Docket.open(join(dir, 'docket.db')), (error) => {
      assert.ok(isDocketError(error, 'SQLITE_DRIVER_MISSING'), String(error))
      assert.match(error.message, /npm install better-sqlite3/)
      return true
    })
    assert.deepEqual(asked, ['better-sqlite3'])
  })

  it('Docket.open on PostgreSQL never asks for it', async () => {
    asked.length = 0
    const pg = await freshPostgresSchema()
    try {
      const docket = await Docket.open(pg.url)
      await docket.createQueue({ name: 'q' })
      const job = await docket.add('q', 't', { n: 1 })
      assert.equal((await docket.getJob(job.id)).status, 'waiting')
      await docket.close()
    } finally {
      await pg.drop()
    }
    assert.deepEqual(asked, [])
  })
})
