/**
 * Job semantics over HTTP (issue 15): every attempt on a job's page, retry-after
 * and snooze from a remote worker, and bad input for each refused with the field named.
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { TestClock } from '../../src/index.js'
import { type Driver, type Json, type Server, useServer } from './harness.js'

/** Registers `worker` on `queue` and claims one job; returns it. */
async function claimVia(s: Server, worker: string, queue: string): Promise<Json> {
  await s.ok(201, 'worker', 'POST', '/api/v1/workers', { id: worker, queues: [queue] })
  const { jobs } = await s.ok(200, 'worker', 'POST', `/api/v1/workers/${worker}/claim`, { queues: [queue] })
  assert.equal(jobs.length, 1, `a job to claim in ${queue}`)
  return jobs[0]
}

export function semanticsSuite(driver: Driver): void {
  describe(`server: job semantics [${driver}]`, () => {
    const clock = new TestClock()
    const s = useServer(driver, {}, { clock })
    before(async () => {
      for (const name of ['attempts'])
        await s.ok(201, 'admin', 'POST', '/api/v1/queues', {
          name,
          backoff: { type: 'fixed', delayMs: 1000, jitter: 0 },
        })
    })

    it('GET /jobs/{id} lists every attempt, oldest first, with its worker and error', async () => {
      const { id } = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'attempts', type: 'a' })
      const first = await claimVia(s, 'w-a1', 'attempts')
      await s.ok(200, 'worker', 'POST', `/api/v1/jobs/${id}/fail`, {
        token: first.lease.token,
        error: { message: 'upstream down', name: 'HttpError', stack: 'at remote', data: { status: 503 } },
      })
      clock.advance(1000)
      const second = await claimVia(s, 'w-a2', 'attempts')
      await s.ok(200, 'worker', 'POST', `/api/v1/jobs/${id}/complete`, {
        token: second.lease.token,
        result: 1,
      })
      const job = await s.ok(200, 'alice', 'GET', `/api/v1/jobs/${id}`)
      assert.equal(job.attempts, 2)
      assert.deepEqual(
        job.attemptHistory.map((a: Json) => [a.attempt, a.workerId, a.outcome]),
        [
          [1, 'w-a1', 'failed'],
          [2, 'w-a2', 'completed'],
        ],
      )
      assert.deepEqual(job.attemptHistory[0].error, {
        name: 'HttpError',
        message: 'upstream down',
        stack: 'at remote',
        data: { status: 503 },
      })
      assert.equal(typeof job.attemptHistory[1].startedAt, 'string')
      const spec = await s.ok(200, null, 'GET', '/api/v1/openapi.json')
      assert.ok(spec.components.schemas.Attempt, 'the OpenAPI document describes an attempt')
    })
  })
}
