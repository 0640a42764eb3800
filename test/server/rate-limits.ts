/** Flow control over HTTP: rate limits and groups set on create and update, shown on the queue, enforced on remote claims, bad input refused. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { TestClock } from '../../src/index.js'
import { type Driver, useServer } from './harness.js'

export function rateLimitsSuite(driver: Driver): void {
  describe(`server: a rate limit's current use [${driver}]`, () => {
    const clock = new TestClock()
    const s = useServer(driver, {}, { clock })
    const claim = () =>
      s.call('worker', 'POST', '/api/v1/workers/w-use/claim', { queues: ['rl-use'], limit: 5 })

    it('the queue shows starts in the window and the next slot; a remote claim held back is told when to come back', async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', {
        name: 'rl-use',
        rateLimit: { max: 2, intervalMs: 10_000 },
      })
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'rl-free' })
      await s.ok(201, 'worker', 'POST', '/api/v1/workers', { id: 'w-use', queues: ['rl-use', 'rl-free'] })
      for (let i = 0; i < 4; i++)
        await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'rl-use', type: 't' })
      const use = async () => (await s.ok(200, 'admin', 'GET', '/api/v1/queues/rl-use')).rateLimitUse
      assert.deepEqual(await use(), { used: 0, max: 2, intervalMs: 10_000, full: false, nextSlotAt: null })

      const first = await s.call('worker', 'POST', '/api/v1/workers/w-use/claim', {
        queues: ['rl-use'],
        limit: 1,
      })
      assert.equal(first.body.jobs.length, 1)
      assert.equal(first.body.retryAfterMs, undefined, 'a claim that got a job is not told to wait')
      const t0 = clock.now().getTime()
      clock.advance(4_000)
      assert.equal((await claim()).body.jobs.length, 1, 'the second slot of the window')
      assert.deepEqual(await use(), {
        used: 2,
        max: 2,
        intervalMs: 10_000,
        full: true,
        nextSlotAt: new Date(t0 + 10_000).toISOString(),
      })

      const held = await claim()
      assert.equal(held.status, 200)
      assert.deepEqual(held.body, { jobs: [], retryAfterMs: 6_000 })
      assert.equal(held.headers.get('retry-after'), '6')
      clock.advance(5_500)
      const soon = await claim()
      assert.equal(soon.body.retryAfterMs, 500)
      assert.equal(soon.headers.get('retry-after'), '1', 'whole seconds, rounded up')

      clock.advance(500)
      assert.deepEqual(await use(), { used: 1, max: 2, intervalMs: 10_000, full: false, nextSlotAt: null })
      const next = await claim()
      assert.equal(next.body.jobs.length, 1, 'the first start left the window')
      assert.equal(next.headers.get('retry-after'), null)

      // An empty queue without a rate limit: nothing to wait for, so no retryAfterMs.
      const empty = await s.call('worker', 'POST', '/api/v1/workers/w-use/claim', { queues: ['rl-free'] })
      assert.deepEqual(empty.body, { jobs: [] })
      assert.equal(empty.headers.get('retry-after'), null)
      assert.equal((await s.ok(200, 'admin', 'GET', '/api/v1/queues/rl-free')).rateLimitUse, null)
      assert.equal(
        'rateLimitUse' in (await s.ok(200, 'alice', 'GET', '/api/v1/queues/rl-use')),
        false,
        'a user key is not shown everyone’s starts',
      )
    })
  })

  describe(`server: rate limits [${driver}]`, () => {
    const s = useServer(driver)

    it('sets a rate limit on create and update, shows it, and remote claims respect it', async () => {
      const made = await s.ok(201, 'admin', 'POST', '/api/v1/queues', {
        name: 'rl',
        rateLimit: { max: 2, intervalMs: 3_600_000 },
      })
      assert.deepEqual(made.rateLimit, { max: 2, intervalMs: 3_600_000 })
      await s.ok(201, 'worker', 'POST', '/api/v1/workers', { id: 'w-rl', queues: ['rl'] })
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

    it('groups: queue options, a job defaulting to its owner’s group, per-group counts (a user sees their own)', async () => {
      const q = await s.ok(201, 'admin', 'POST', '/api/v1/queues', {
        name: 'grp',
        groupConcurrency: 1,
        fair: true,
        groupByOwner: true,
      })
      assert.deepEqual([q.groupConcurrency, q.fair, q.groupByOwner], [1, true, true])
      for (const who of ['alice', 'alice', 'bob'] as const) {
        const job = await s.ok(201, who, 'POST', '/api/v1/jobs', { queue: 'grp', type: 't' })
        assert.equal(job.group, who)
      }
      assert.equal(
        (await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'grp', type: 't', group: 'team' })).group,
        'alice',
        'on a groupByOwner queue a given group is ignored',
      )
      const admin = await s.ok(200, 'admin', 'GET', '/api/v1/queues/grp')
      assert.deepEqual(admin.groups, [
        { group: 'alice', active: 0, waiting: 3 },
        { group: 'bob', active: 0, waiting: 1 },
      ])
      const alice = await s.ok(200, 'alice', 'GET', '/api/v1/queues/grp')
      assert.deepEqual(
        alice.groups.map((g: { group: string }) => g.group),
        ['alice'],
      )
      await s.ok(201, 'worker', 'POST', '/api/v1/workers', { id: 'w-grp', queues: ['grp'] })
      const claimed = await s.ok(200, 'worker', 'POST', '/api/v1/workers/w-grp/claim', {
        queues: ['grp'],
        limit: 10,
      })
      assert.deepEqual(claimed.jobs.map((j: { group: string }) => j.group).sort(), ['alice', 'bob'])
      await s.fail(400, 'INVALID_ARGUMENT', 'admin', 'PATCH', '/api/v1/queues/grp', { groupConcurrency: 0 })
    })

    it('groupByOwner: a user key naming another user’s group (one job, bulk, a batch) does not take that user’s slot', async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', {
        name: 'grp-slot',
        groupConcurrency: 1,
        groupByOwner: true,
      })
      const posing = { queue: 'grp-slot', type: 't', group: 'alice' }
      const one = await s.ok(201, 'bob', 'POST', '/api/v1/jobs', posing)
      const bulk = await s.ok(201, 'bob', 'POST', '/api/v1/jobs/bulk', { jobs: [posing] })
      const batch = await s.ok(201, 'bob', 'POST', '/api/v1/batches', { jobs: [posing] })
      assert.deepEqual(
        [one, bulk.jobs[0], batch.jobs[0]].map((j: { owner: string; group: string }) => [j.owner, j.group]),
        [
          ['bob', 'bob'],
          ['bob', 'bob'],
          ['bob', 'bob'],
        ],
      )
      const hers = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'grp-slot', type: 't' })
      await s.ok(201, 'worker', 'POST', '/api/v1/workers', { id: 'w-grp-slot', queues: ['grp-slot'] })
      const claimed = await s.ok(200, 'worker', 'POST', '/api/v1/workers/w-grp-slot/claim', {
        queues: ['grp-slot'],
        limit: 10,
      })
      assert.deepEqual(claimed.jobs.map((j: { group: string }) => j.group).sort(), ['alice', 'bob'])
      assert.ok(
        claimed.jobs.some((j: { id: string }) => j.id === hers.id),
        'alice’s job takes her slot',
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
