/**
 * GET /api/v1/batches: the batch list the dashboard's Batches page reads,
 * newest first, paged with `before`, and a user's own batches only.
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { type Driver, type Json, useServer } from './harness.js'

export function batchListSuite(driver: Driver): void {
  describe(`server: the batch list [${driver}]`, () => {
    const s = useServer(driver)
    const made: Json[] = []

    before(async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'bl' })
      for (const [who, name] of [
        ['alice', 'a1'],
        ['bob', 'b1'],
        ['alice', 'a2'],
        ['admin', 'nobody'],
      ] as const) {
        const jobs = [
          { queue: 'bl', type: 'x' },
          { queue: 'bl', type: 'y' },
        ]
        made.push((await s.ok(201, who, 'POST', '/api/v1/batches', { name, jobs })).batch)
      }
    })

    it('lists every batch for an admin, newest first, with counts and progress', async () => {
      const { batches, nextBefore } = await s.ok(200, 'admin', 'GET', '/api/v1/batches')
      assert.deepEqual(
        batches.map((b: Json) => b.name),
        ['nobody', 'a2', 'b1', 'a1'],
      )
      assert.equal(nextBefore, null)
      assert.deepEqual(batches[3], made[0])
      assert.equal(batches[0].total, 2)
      assert.equal(batches[0].counts.waiting, 2)
    })

    it('pages with limit and before until nextBefore is null', async () => {
      const names: string[] = []
      let before: string | null = null
      do {
        const q: string = before ? `?limit=3&before=${before}` : '?limit=3'
        const page = await s.ok(200, 'admin', 'GET', `/api/v1/batches${q}`)
        names.push(...page.batches.map((b: Json) => b.name))
        before = page.nextBefore
      } while (before)
      assert.deepEqual(names, ['nobody', 'a2', 'b1', 'a1'])
    })

    it('narrows to one owner for an admin, and shows a user only their own', async () => {
      const bobs = await s.ok(200, 'admin', 'GET', '/api/v1/batches?owner=bob')
      assert.deepEqual(
        bobs.batches.map((b: Json) => b.name),
        ['b1'],
      )
      const alices = await s.ok(200, 'alice', 'GET', '/api/v1/batches')
      assert.deepEqual(
        alices.batches.map((b: Json) => b.name),
        ['a2', 'a1'],
      )
      assert.deepEqual((await s.ok(200, 'alice', 'GET', '/api/v1/batches?owner=bob')).batches, [])
      await s.fail(403, 'FORBIDDEN', 'worker', 'GET', '/api/v1/batches')
      await s.fail(401, 'UNAUTHENTICATED', null, 'GET', '/api/v1/batches')
      await s.fail(400, 'INVALID_ARGUMENT', 'admin', 'GET', '/api/v1/batches?limit=0')
    })
  })
}
