/** Queue rate limits over HTTP: set on create and update, shown on the queue, enforced on remote claims, bad input refused. */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { type Driver, useServer } from './harness.js'

export function rateLimitsSuite(driver: Driver): void {
  describe(`server: rate limits [${driver}]`, () => {
    const s = useServer(driver)

    before(async () => {
      await s.ok(201, 'worker', 'POST', '/api/v1/workers', { id: 'w-rl', queues: ['rl'] })
    })

    it('sets a rate limit on create and update, shows it, and remote claims respect it', async () => {
      const made = await s.ok(201, 'admin', 'POST', '/api/v1/queues', {
        name: 'rl',
        rateLimit: { max: 2, intervalMs: 3_600_000 },
      })
      assert.deepEqual(made.rateLimit, { max: 2, intervalMs: 3_600_000 })
      for (let i = 0; i < 5; i++) await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'rl', type: 't' })
      const claimed = await s.ok(200, 'worker', 'POST', '/api/v1/workers/w-rl/claim', {
        queues: ['rl'],
        limit: 5,
      })
      assert.equal(claimed.jobs.length, 2)
      const again = await s.ok(200, 'worker', 'POST', '/api/v1/workers/w-rl/claim', {
        queues: ['rl'],
        limit: 5,
      })
      assert.equal(again.jobs.length, 0)
      const patched = await s.ok(200, 'admin', 'PATCH', '/api/v1/queues/rl', {
        rateLimit: { max: 3, intervalMs: 3_600_000 },
      })
      assert.deepEqual(patched.rateLimit, { max: 3, intervalMs: 3_600_000 })
      const third = await s.ok(200, 'worker', 'POST', '/api/v1/workers/w-rl/claim', {
        queues: ['rl'],
        limit: 5,
      })
      assert.equal(third.jobs.length, 1, 'the raised limit has room for one more in this window')
      assert.deepEqual((await s.ok(200, 'alice', 'GET', '/api/v1/queues/rl')).rateLimit, patched.rateLimit)
      assert.equal(
        (await s.ok(200, 'admin', 'PATCH', '/api/v1/queues/rl', { rateLimit: null })).rateLimit,
        null,
      )
    })

    it('refuses a bad rate limit with 400 naming the field', async () => {
      for (const [rateLimit, field] of [
        [{ max: 0, intervalMs: 1000 }, 'rateLimit.max'],
        [{ max: 1 }, 'rateLimit.intervalMs'],
        [{ max: 1, intervalMs: 1000, per: 'tenant' }, 'per'],
      ] as const) {
        const error = await s.fail(400, 'INVALID_ARGUMENT', 'admin', 'POST', '/api/v1/queues', {
          name: 'rl-bad',
          rateLimit,
        })
        assert.match(JSON.stringify(error), new RegExp(field.replace('.', '\\.')))
      }
      await s.fail(404, 'NOT_FOUND', 'admin', 'GET', '/api/v1/queues/rl-bad')
    })
  })
}
