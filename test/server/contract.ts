/**
 * Where the server and its documents once disagreed (issue 33, item 10): a
 * worker key reads a queue's rate-limit use; registering a worker for a queue
 * that does not exist is refused as a claim is; every issue path of a 400
 * starts with where in the request the value was (docs/errors.md); a lease
 * report on a deleted job is 409 LEASE_LOST `deleted`; a batch's progress.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type Driver, type Json, useServer } from './harness.js'

export function contractSuite(driver: Driver): void {
  describe(`server: the contract the docs state [${driver}]`, () => {
    const s = useServer(driver)

    it('lets a worker key read a queue’s settings and rateLimitUse, and nothing about its jobs', async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', {
        name: 'paced',
        rateLimit: { max: 2, intervalMs: 60_000 },
      })
      await s.docket.add({ queue: 'paced', type: 't', owner: 'alice', payload: { secret: 'CANARY-Q' } })
      const seen = await s.ok(200, 'worker', 'GET', '/api/v1/queues/paced')
      assert.equal(seen.name, 'paced')
      assert.deepEqual(seen.rateLimit, { max: 2, intervalMs: 60_000 })
      assert.deepEqual(
        { used: seen.rateLimitUse.used, max: seen.rateLimitUse.max, full: seen.rateLimitUse.full },
        { used: 0, max: 2, full: false },
      )
      for (const field of ['counts', 'groups', 'health']) assert.equal(seen[field], undefined, field)
      // A queue without a limit: rateLimitUse null; a missing one: 404 as for anyone.
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'unpaced' })
      assert.equal((await s.ok(200, 'worker', 'GET', '/api/v1/queues/unpaced')).rateLimitUse, null)
      await s.fail(404, 'NOT_FOUND', 'worker', 'GET', '/api/v1/queues/nope')
      // Users still get their own counts and no rateLimitUse; admins both.
      const user = await s.ok(200, 'alice', 'GET', '/api/v1/queues/paced')
      assert.equal(user.counts.waiting, 1)
      assert.equal(user.rateLimitUse, undefined)
      assert.equal((await s.ok(200, 'admin', 'GET', '/api/v1/queues/paced')).rateLimitUse.max, 2)
    })

    it('refuses to register a worker for a queue that does not exist, with the claim’s 404', async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'real-q' })
      const error = await s.fail(404, 'NOT_FOUND', 'worker', 'POST', '/api/v1/workers', {
        id: 'w-ghost',
        queues: ['real-q', 'ghost-q'],
      })
      assert.deepEqual(error.details, { resource: 'queue', id: 'ghost-q' })
      assert.equal(await s.docket.workers.get('w-ghost'), null, 'nothing was registered')
      await s.ok(201, 'worker', 'POST', '/api/v1/workers', { id: 'w-real', queues: ['real-q'] })
    })

    it('starts every issue path with where the value was, for schema and library refusals alike', async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'paths' })
      await s.ok(201, 'worker', 'POST', '/api/v1/workers', { id: 'w-paths', queues: ['paths'] })
      const job = await s.ok(201, 'admin', 'POST', '/api/v1/jobs', { queue: 'paths', type: 't' })
      const [claimed] = (
        await s.ok(200, 'worker', 'POST', '/api/v1/workers/w-paths/claim', { queues: ['paths'] })
      ).jobs as Json[]
      const token = claimed!.lease.token
      const paths = async (method: string, url: string, body?: unknown, headers?: Record<string, string>) =>
        (
          (await s.fail(400, 'INVALID_ARGUMENT', 'admin', method, url, body, headers)).details
            .issues as Json[]
        ).map((i) => i.path)
      // The schema's refusal and the library's (retryInMs with retryable: false) name the field alike.
      assert.deepEqual(
        await paths('POST', `/api/v1/jobs/${job.id}/fail`, { token, error: { message: 'x' }, retryInMs: -1 }),
        ['body.retryInMs'],
      )
      assert.deepEqual(
        await paths('POST', `/api/v1/jobs/${job.id}/fail`, {
          token,
          error: { message: 'x' },
          retryInMs: 10,
          retryable: false,
        }),
        ['body.retryInMs'],
      )
      assert.deepEqual(await paths('GET', `/api/v1/jobs?where=${encodeURIComponent('payload.x ~ 1')}`), [
        'querystring.where',
      ])
      assert.deepEqual(await paths('GET', `/api/v1/jobs?id=xyz`), ['querystring.id'])
      assert.deepEqual(
        await paths('POST', '/api/v1/jobs/actions/cancel', {
          filter: { queue: 'paths', where: 'payload.x ~ 1' },
        }),
        ['body.filter.where'],
      )
      assert.deepEqual(
        await paths('POST', '/api/v1/jobs/bulk', {
          jobs: [
            { queue: 'paths', type: 't' },
            { queue: 'paths', type: 't', payload: { bad: '\ud800' } },
          ],
        }),
        ['body.jobs.1.payload.bad'],
      )
      assert.deepEqual(await paths('GET', '/api/v1/events', undefined, { 'last-event-id': 'x' }), [
        'headers.last-event-id',
      ])
      for (const p of await paths('POST', '/api/v1/jobs', { queue: 'paths', type: 't', priority: 900 }))
        assert.match(p, /^body\./)
    })

    it('answers a lease report on a deleted job 409 LEASE_LOST, reason deleted', async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'gone' })
      await s.ok(201, 'worker', 'POST', '/api/v1/workers', { id: 'w-gone', queues: ['gone'] })
      const job = await s.ok(201, 'admin', 'POST', '/api/v1/jobs', { queue: 'gone', type: 't' })
      const [claimed] = (
        await s.ok(200, 'worker', 'POST', '/api/v1/workers/w-gone/claim', { queues: ['gone'] })
      ).jobs as Json[]
      await s.ok(200, 'admin', 'POST', `/api/v1/jobs/${job.id}/cancel`)
      await s.ok(200, 'admin', 'DELETE', `/api/v1/jobs/${job.id}`)
      for (const [path, body] of [
        ['heartbeat', {}],
        ['progress', { percent: 5 }],
        ['complete', {}],
      ] as const) {
        const error = await s.fail(409, 'LEASE_LOST', 'worker', 'POST', `/api/v1/jobs/${job.id}/${path}`, {
          token: claimed!.lease.token,
          ...body,
        })
        assert.equal(error.details.reason, 'deleted', path)
      }
    })

    it('gives a batch’s progress as documented: final jobs count 100, others their percent', async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'batchy' })
      const { batch, jobs } = await s.ok(201, 'alice', 'POST', '/api/v1/batches', {
        jobs: Array.from({ length: 4 }, () => ({ queue: 'batchy', type: 't' })),
      })
      for (const j of jobs.slice(0, 2)) await s.ok(200, 'alice', 'POST', `/api/v1/jobs/${j.id}/cancel`)
      const [running] = await s.docket.workers.claim({ workerId: 'w-batchy', queues: ['batchy'] })
      await s.docket.workers.progress(running!, { percent: 50 })
      // (100 + 100 + 50 + 0) / 4
      assert.equal((await s.ok(200, 'alice', 'GET', `/api/v1/batches/${batch.id}`)).progress, 62.5)
    })
  })
}
