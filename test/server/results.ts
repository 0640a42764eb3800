/** Awaiting a job's end over HTTP: GET /api/v1/jobs/{id}/result?waitMs= (a long poll), owner-checked. */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { type Driver, type Json, type Server, useServer } from './harness.js'

async function claimOne(s: Server, worker: string, queue: string): Promise<Json> {
  await s.ok(201, 'worker', 'POST', '/api/v1/workers', { id: worker, queues: [queue] })
  const { jobs } = await s.ok(200, 'worker', 'POST', `/api/v1/workers/${worker}/claim`, { queues: [queue] })
  assert.equal(jobs.length, 1)
  return jobs[0]
}

export function resultsSuite(driver: Driver): void {
  describe(`server: awaiting a result [${driver}]`, () => {
    const s = useServer(driver)
    before(async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'awaited' })
    })

    it('answers 202 with the live job when waitMs runs out, then 200 with the result once it ends', async () => {
      const { id } = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'awaited', type: 'analyse' })
      const live = await s.call('alice', 'GET', `/api/v1/jobs/${id}/result?waitMs=30`)
      assert.equal(live.status, 202)
      assert.equal(live.body.status, 'waiting')
      assert.equal(live.body.result, null)

      // A poll that is open when the worker completes the job answers with its result.
      const polling = s.ok(200, 'alice', 'GET', `/api/v1/jobs/${id}/result?waitMs=30000`)
      const job = await claimOne(s, 'res-w1', 'awaited')
      await s.ok(200, 'worker', 'POST', `/api/v1/jobs/${id}/complete`, {
        token: job.lease.token,
        result: { pages: 12 },
      })
      const ended = await polling
      assert.equal(ended.status, 'completed')
      assert.deepEqual(ended.result, { pages: 12 })
      assert.ok(Array.isArray(ended.events), 'the ended job comes with its history, as GET /jobs/{id}')
      // Already ended: at once, with or without waitMs.
      assert.equal((await s.ok(200, 'alice', 'GET', `/api/v1/jobs/${id}/result`)).status, 'completed')
    })

    it("is someone else's job exactly as a missing one, and refuses a bad waitMs naming it", async () => {
      const { id } = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'awaited', type: 'private' })
      const theirs = await s.fail(404, 'NOT_FOUND', 'bob', 'GET', `/api/v1/jobs/${id}/result?waitMs=10`)
      const missing = await s.fail(
        404,
        'NOT_FOUND',
        'bob',
        'GET',
        `/api/v1/jobs/${'0'.repeat(8)}-0000-7000-8000-${'0'.repeat(12)}/result`,
      )
      assert.deepEqual(Object.keys(theirs.details).sort(), Object.keys(missing.details).sort())
      await s.fail(403, 'FORBIDDEN', 'worker', 'GET', `/api/v1/jobs/${id}/result`)
      for (const bad of ['-1', '60001', 'soon', '1.5']) {
        const e = await s.fail(
          400,
          'INVALID_ARGUMENT',
          'alice',
          'GET',
          `/api/v1/jobs/${id}/result?waitMs=${bad}`,
        )
        assert.match(JSON.stringify(e.details), /waitMs/)
      }
      await s.fail(400, 'INVALID_ARGUMENT', 'alice', 'GET', `/api/v1/jobs/${id}/result?wait=5`)
    })
  })
}
