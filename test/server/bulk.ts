/**
 * POST /api/v1/jobs/actions/{action}: act on every job a filter matches, or on
 * a list of ids, done by the server; a user key acts only on its own jobs.
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { type Driver, type Json, UNKNOWN_ID, useServer } from './harness.js'

export function bulkSuite(driver: Driver): void {
  describe(`server: bulk actions [${driver}]`, () => {
    const s = useServer(driver)
    const jobs: Record<string, Json[]> = {}

    before(async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'bulk' })
      for (const who of ['alice', 'bob'] as const) {
        const body = {
          jobs: Array.from({ length: 3 }, (_, i) => ({ queue: 'bulk', type: 'email', payload: { i } })),
        }
        jobs[who] = (await s.ok(201, who, 'POST', '/api/v1/jobs/bulk', body)).jobs
      }
    })

    it('cancels every job a filter matches and answers matched and changed', async () => {
      const r = await s.ok(200, 'alice', 'POST', '/api/v1/jobs/actions/cancel', {
        filter: { queue: 'bulk', where: 'payload.i >= 1' },
      })
      assert.deepEqual(r, { matched: 2, changed: 2 })
      const { jobs: mine } = await s.ok(200, 'alice', 'GET', '/api/v1/jobs?queue=bulk&status=cancelled')
      assert.equal(mine.length, 2)
      const { jobs: bobs } = await s.ok(200, 'bob', 'GET', '/api/v1/jobs?queue=bulk&status=waiting')
      assert.equal(bobs.length, 3, 'a user’s filter never reaches another user’s jobs')
    })

    it('a user naming another owner, or their ids, matches nothing and changes nothing', async () => {
      const before = await s.snapshot()
      assert.deepEqual(
        await s.ok(200, 'alice', 'POST', '/api/v1/jobs/actions/cancel', {
          filter: { owner: 'bob' },
          all: true,
        }),
        { matched: 0, changed: 0 },
      )
      const bobIds = jobs.bob!.map((j) => j.id)
      assert.deepEqual(await s.ok(200, 'alice', 'POST', '/api/v1/jobs/actions/delete', { ids: bobIds }), {
        matched: 0,
        changed: 0,
      })
      assert.deepEqual(
        await s.ok(200, 'alice', 'POST', '/api/v1/jobs/actions/delete', { ids: [UNKNOWN_ID] }),
        { matched: 0, changed: 0 },
        'someone else’s job is exactly a missing one',
      )
      assert.deepEqual(await s.snapshot(), before)
    })

    it('an admin retries by filter across owners, and deletes by ids', async () => {
      assert.deepEqual(
        await s.ok(200, 'admin', 'POST', '/api/v1/jobs/actions/retry', {
          filter: { queue: 'bulk', status: 'cancelled' },
        }),
        { matched: 2, changed: 2 },
      )
      const ids = [...jobs.alice!, ...jobs.bob!].map((j) => j.id)
      assert.deepEqual(await s.ok(200, 'admin', 'POST', '/api/v1/jobs/actions/delete', { ids }), {
        matched: 6,
        changed: 6,
      })
      const { jobs: left } = await s.ok(200, 'admin', 'GET', '/api/v1/jobs?queue=bulk')
      assert.equal(left.length, 0)
    })

    it('acts on every queue only when told all: true, so that an empty filter does nothing', async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'bulk-everywhere' })
      const job = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'bulk-everywhere', type: 't' })
      const before = await s.snapshot()
      for (const [who, body] of [
        ['admin', { filter: {} }],
        ['admin', { filter: { status: 'waiting' } }],
        ['admin', { filter: { type: 't', owner: 'alice' } }],
        ['alice', { filter: {} }],
        ['admin', { ids: [job.id], all: true }],
      ] as const) {
        const error = await s.fail(400, 'INVALID_ARGUMENT', who, 'POST', '/api/v1/jobs/actions/cancel', body)
        assert.deepEqual(
          error.details.issues.map((i: Json) => i.path),
          ['body.all'],
          JSON.stringify(body),
        )
        assert.match(error.message, /name filter\.queue, or add all: true/)
      }
      assert.deepEqual(await s.snapshot(), before, 'an empty filter changed nothing')
      // Said on purpose: every queue.
      const r = await s.ok(200, 'admin', 'POST', '/api/v1/jobs/actions/cancel', {
        filter: { type: 't', owner: 'alice' },
        all: true,
      })
      assert.deepEqual(r, { matched: 1, changed: 1 })
      assert.equal((await s.ok(200, 'admin', 'GET', `/api/v1/jobs/${job.id}`)).status, 'cancelled')
      // The library says it the same way.
      await assert.rejects(
        () => s.docket.actOnJobs('retry', { filter: {} }),
        (e: Json) => e.code === 'INVALID_ARGUMENT' && e.details.issues[0].path === 'all',
      )
      assert.deepEqual(await s.docket.actOnJobs('retry', { filter: { type: 't' }, all: true }), {
        matched: 1,
        changed: 1,
      })
    })

    it('refuses an unknown action, both or neither target, bad filters and worker keys, with a 4xx naming the field', async () => {
      const before = await s.snapshot()
      const bad = async (path: string, body: unknown, field: string) => {
        const e = await s.fail(400, 'INVALID_ARGUMENT', 'admin', 'POST', path, body)
        assert.match(JSON.stringify(e), new RegExp(field))
      }
      await bad('/api/v1/jobs/actions/explode', { ids: [UNKNOWN_ID] }, 'action')
      await bad('/api/v1/jobs/actions/cancel', {}, 'body')
      await bad('/api/v1/jobs/actions/cancel', { ids: [UNKNOWN_ID], filter: {} }, 'body')
      await bad('/api/v1/jobs/actions/cancel', { ids: [] }, 'ids')
      await bad('/api/v1/jobs/actions/cancel', { ids: ['x'] }, 'ids')
      await bad('/api/v1/jobs/actions/cancel', { filter: { queue: 'bulk', status: 'done' } }, 'status')
      await bad('/api/v1/jobs/actions/cancel', { filter: { queue: 'bulk', where: 'payload. =' } }, 'where')
      await bad('/api/v1/jobs/actions/cancel', { filter: { queue: 'bulk', limit: 5 } }, 'limit')
      await s.fail(403, 'FORBIDDEN', 'worker', 'POST', '/api/v1/jobs/actions/cancel', { ids: [UNKNOWN_ID] })
      await s.fail(401, 'UNAUTHENTICATED', null, 'POST', '/api/v1/jobs/actions/cancel', { ids: [UNKNOWN_ID] })
      assert.deepEqual(await s.snapshot(), before)
    })
  })
}
