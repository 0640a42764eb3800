/**
 * Job semantics over HTTP (issue 15): every attempt on a job's page, retry-after
 * and snooze from a remote worker, and bad input for each refused with the field named.
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { fingerprintError } from '../../src/core/fingerprint.js'
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
      for (const name of ['attempts', 'later', 'expiring', 'deps', 'joins', 'keyed'])
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
        fingerprint: fingerprintError({ name: 'HttpError', message: 'upstream down', stack: 'at remote' })
          .fingerprint,
        data: { status: 503 },
      })
      assert.equal(typeof job.attemptHistory[1].startedAt, 'string')
      const spec = await s.ok(200, null, 'GET', '/api/v1/openapi.json')
      assert.ok(spec.components.schemas.Attempt, 'the OpenAPI document describes an attempt')
    })

    it('fail { retryInMs } retries after that long; snooze runs later without spending the attempt', async () => {
      const { id } = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'later', type: 'a' })
      const first = await claimVia(s, 'w-l1', 'later')
      const failed = await s.ok(200, 'worker', 'POST', `/api/v1/jobs/${id}/fail`, {
        token: first.lease.token,
        error: { message: '429 from upstream' },
        retryInMs: 45_000,
      })
      assert.equal(failed.status, 'scheduled')
      assert.equal(new Date(failed.runAt).getTime(), clock.now().getTime() + 45_000)
      clock.advance(45_000)

      const second = await claimVia(s, 'w-l2', 'later')
      assert.equal(second.attempts, 2)
      const snoozed = await s.ok(200, 'worker', 'POST', `/api/v1/jobs/${id}/snooze`, {
        token: second.lease.token,
        delayMs: 10_000,
      })
      assert.equal(snoozed.status, 'scheduled')
      assert.equal(snoozed.attempts, 1, 'the snoozed attempt is given back')
      assert.equal(new Date(snoozed.runAt).getTime(), clock.now().getTime() + 10_000)
      const lost = await s.fail(409, 'LEASE_LOST', 'worker', 'POST', `/api/v1/jobs/${id}/snooze`, {
        token: second.lease.token,
        delayMs: 10_000,
      })
      assert.equal(lost.details.reason, 'snoozed')
      const job = await s.ok(200, 'alice', 'GET', `/api/v1/jobs/${id}`)
      assert.deepEqual(
        job.attemptHistory.map((a: Json) => a.outcome),
        ['failed', 'snoozed'],
      )
    })

    it('bad input: a negative retryInMs or delayMs, retryInMs with retryable: false; nothing changes', async () => {
      await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'later', type: 'b' })
      clock.advance(10_000)
      const held = await claimVia(s, 'w-l3', 'later')
      const before = await s.snapshot()
      const path = `/api/v1/jobs/${held.id}`
      const token = held.lease.token
      const bad = [
        [`${path}/fail`, { token, error: { message: 'x' }, retryInMs: -1 }, 'retryInMs'],
        [`${path}/fail`, { token, error: { message: 'x' }, retryInMs: 5, retryable: false }, 'retryInMs'],
        [`${path}/snooze`, { token, delayMs: -1 }, 'delayMs'],
        [`${path}/snooze`, { token, delayMs: 'soon' }, 'delayMs'],
        [`${path}/snooze`, { token }, 'delayMs'],
      ] as const
      for (const [url, body, field] of bad) {
        const error = await s.fail(400, 'INVALID_ARGUMENT', 'worker', 'POST', url, body)
        assert.match(error.message, new RegExp(field), `${url} ${JSON.stringify(body)}: ${error.message}`)
      }
      assert.deepEqual(await s.snapshot(), before, 'a refused call changed something')
      const spec = await s.ok(200, null, 'GET', '/api/v1/openapi.json')
      assert.ok(spec.paths['/api/v1/jobs/{id}/snooze']?.post, 'the snooze route is documented')
    })

    it('expiresInMs / expiresAt: a job not started in time ends failed as expired, counted in the statistics', async () => {
      const now = clock.now().getTime()
      const job = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', {
        queue: 'expiring',
        type: 'notify',
        expiresInMs: 60_000,
      })
      assert.equal(new Date(job.expiresAt).getTime(), now + 60_000)
      const at = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', {
        queue: 'expiring',
        type: 'preview',
        expiresAt: new Date(now + 30_000).toISOString(),
      })
      assert.equal(at.expiresAt, new Date(now + 30_000).toISOString())
      clock.advance(60_000)
      await s.ok(201, 'worker', 'POST', '/api/v1/workers', { id: 'w-x', queues: ['expiring'] })
      const claimed = await s.ok(200, 'worker', 'POST', '/api/v1/workers/w-x/claim', { queues: ['expiring'] })
      assert.deepEqual(claimed.jobs, [], 'an expired job is never handed out')
      assert.equal(await s.docket.expireJobs(), 2)
      const detail = await s.ok(200, 'alice', 'GET', `/api/v1/jobs/${job.id}`)
      assert.equal(detail.status, 'failed')
      assert.equal(detail.lastError.name, 'JobExpired')
      assert.deepEqual(
        detail.attemptHistory.map((a: Json) => a.outcome),
        ['expired'],
      )
      const stats = await s.ok(200, 'admin', 'GET', '/api/v1/queues/expiring/stats')
      assert.equal(stats.lastHour.expired, 2)
    })

    it('bad expiry input is a 400 naming the field, and adds nothing', async () => {
      const before = await s.snapshot()
      const now = clock.now().getTime()
      const bad = [
        [{ expiresAt: new Date(now - 1000).toISOString() }, 'expiresAt'],
        [{ expiresInMs: -5 }, 'expiresInMs'],
        [{ expiresInMs: 1000, expiresAt: new Date(now + 5000).toISOString() }, 'expiresInMs'],
        [{ delayMs: 5000, expiresInMs: 5000 }, 'expiresInMs'],
      ] as const
      for (const [extra, field] of bad) {
        const error = await s.fail(400, 'INVALID_ARGUMENT', 'alice', 'POST', '/api/v1/jobs', {
          queue: 'expiring',
          type: 't',
          ...extra,
        })
        assert.match(error.message, new RegExp(field), `${JSON.stringify(extra)}: ${error.message}`)
      }
      assert.deepEqual(await s.snapshot(), before)
    })

    it('dependsOn { id, on }: completion waits for the end whatever the outcome; a batch with then', async () => {
      const jobs = await s.ok(201, 'alice', 'POST', '/api/v1/jobs/bulk', {
        jobs: [
          { id: '0190f3c4-58a0-7000-8000-0000000000d1', queue: 'deps', type: 'up', maxAttempts: 1 },
          {
            queue: 'deps',
            type: 'down',
            dependsOn: [{ id: '0190f3c4-58a0-7000-8000-0000000000d1', on: 'completion' }],
          },
        ],
      })
      const [up, down] = jobs.jobs
      assert.equal(down.status, 'blocked')
      const detail = await s.ok(200, 'alice', 'GET', `/api/v1/jobs/${down.id}`)
      assert.deepEqual(detail.dependencies.upstream, [{ id: up.id, status: 'waiting', on: 'completion' }])
      const claimed = await claimVia(s, 'w-d1', 'deps')
      assert.equal(claimed.id, up.id)
      await s.ok(200, 'worker', 'POST', `/api/v1/jobs/${up.id}/fail`, {
        token: claimed.lease.token,
        error: { message: 'no' },
      })
      assert.equal((await s.ok(200, 'alice', 'GET', `/api/v1/jobs/${down.id}`)).status, 'waiting')

      const created = await s.ok(201, 'alice', 'POST', '/api/v1/batches', {
        name: 'with-then',
        jobs: [{ queue: 'deps', type: 'part' }],
        then: { queue: 'deps', type: 'report', payload: { done: true } },
      })
      assert.equal(created.thenJob.status, 'blocked')
      assert.equal(created.thenJob.owner, 'alice')
      assert.equal(created.batch.thenJobId, created.thenJob.id)
      const batch = await s.ok(200, 'alice', 'GET', `/api/v1/batches/${created.batch.id}`)
      assert.equal(batch.thenJobId, created.thenJob.id)
    })

    it('GET /jobs/{id}/upstream: results of the jobs it depends on, for the worker holding its lease', async () => {
      const { jobs } = await s.ok(201, 'alice', 'POST', '/api/v1/jobs/bulk', {
        jobs: [
          { id: '0190f3c4-58a0-7000-8000-0000000000e1', queue: 'joins', type: 'part', priority: 'urgent' },
          { queue: 'joins', type: 'join', dependsOn: ['0190f3c4-58a0-7000-8000-0000000000e1'] },
        ],
      })
      const [part, join] = jobs
      const first = await claimVia(s, 'w-u1', 'joins')
      assert.equal(first.id, part.id)
      await s.ok(200, 'worker', 'POST', `/api/v1/jobs/${part.id}/complete`, {
        token: first.lease.token,
        result: { rows: 7 },
      })
      const second = await claimVia(s, 'w-u2', 'joins')
      assert.equal(second.id, join.id)
      const expected = [
        { id: part.id, type: 'part', status: 'completed', on: 'success', result: { rows: 7 } },
      ]
      const viaHeader = await s.ok(200, 'worker', 'GET', `/api/v1/jobs/${join.id}/upstream`, undefined, {
        'x-lease-token': second.lease.token,
      })
      assert.deepEqual(viaHeader.upstream, expected)
      const viaQuery = await s.ok(
        200,
        'worker',
        'GET',
        `/api/v1/jobs/${join.id}/upstream?token=${second.lease.token}`,
      )
      assert.deepEqual(viaQuery.upstream, expected)
      assert.deepEqual(
        (await s.ok(200, 'alice', 'GET', `/api/v1/jobs/${join.id}/upstream`)).upstream,
        expected,
      )
      // Without the lease, or for someone else's job, it is missing.
      await s.fail(404, 'NOT_FOUND', 'worker', 'GET', `/api/v1/jobs/${join.id}/upstream`)
      await s.fail(404, 'NOT_FOUND', 'worker', 'GET', `/api/v1/jobs/${join.id}/upstream`, undefined, {
        'x-lease-token': first.lease.token,
      })
      await s.fail(404, 'NOT_FOUND', 'bob', 'GET', `/api/v1/jobs/${join.id}/upstream`)
      await s.ok(200, 'worker', 'POST', `/api/v1/jobs/${join.id}/complete`, { token: second.lease.token })
    })

    it('bad dependency input is a 400 naming the field, and adds nothing', async () => {
      const before = await s.snapshot()
      const error = await s.fail(400, 'INVALID_ARGUMENT', 'alice', 'POST', '/api/v1/jobs', {
        queue: 'deps',
        type: 't',
        dependsOn: [{ id: '0190f3c4-58a0-7000-8000-0000000000d1', on: 'whenever' }],
      })
      assert.match(error.message, /dependsOn/)
      const bad = await s.fail(400, 'INVALID_ARGUMENT', 'alice', 'POST', '/api/v1/batches', {
        jobs: [{ queue: 'deps', type: 'part' }],
        then: { queue: 'deps', type: 'report', extra: 1 },
      })
      assert.match(bad.message, /then/)
      assert.deepEqual(await s.snapshot(), before)
    })

    it('dedupeMode replace and debounce over HTTP, scoped to the caller; bad input is a 400 naming the field', async () => {
      const first = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', {
        queue: 'keyed',
        type: 't',
        payload: { v: 1 },
        dedupeKey: 'report',
        delayMs: 60_000,
      })
      const replaced = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', {
        queue: 'keyed',
        type: 't',
        payload: { v: 2 },
        dedupeKey: 'report',
        dedupeMode: 'debounce',
        delayMs: 5_000,
      })
      assert.equal(replaced.id, first.id)
      assert.deepEqual(replaced.payload, { v: 2 })
      assert.equal(new Date(replaced.runAt).getTime(), clock.now().getTime() + 5_000)
      const bobs = await s.ok(201, 'bob', 'POST', '/api/v1/jobs', {
        queue: 'keyed',
        type: 't',
        payload: { v: 3 },
        dedupeKey: 'report',
        dedupeMode: 'replace',
      })
      assert.notEqual(bobs.id, first.id, "bob's key is his own")
      assert.deepEqual((await s.ok(200, 'alice', 'GET', `/api/v1/jobs/${first.id}`)).payload, { v: 2 })
      const before = await s.snapshot()
      for (const [body, field] of [
        [{ dedupeKey: 'report', dedupeMode: 'squash' }, 'dedupeMode'],
        [{ dedupeMode: 'replace' }, 'dedupeMode'],
        [{ dedupeTtlMs: 1000 }, 'dedupeTtlMs'],
        [{ dedupeKey: 'report', dedupeMode: 'replace', dedupeMaxWaitMs: 1000 }, 'dedupeMaxWaitMs'],
        [{ dedupeKey: 'report', dedupeMode: 'debounce', dedupeMaxWaitMs: 0 }, 'dedupeMaxWaitMs'],
      ] as const) {
        const error = await s.fail(400, 'INVALID_ARGUMENT', 'alice', 'POST', '/api/v1/jobs', {
          queue: 'keyed',
          type: 't',
          ...body,
        })
        assert.match(error.message, new RegExp(field))
      }
      assert.deepEqual(await s.snapshot(), before)
    })

    it('dedupeMaxWaitMs over HTTP: a debounced stream runs at most that long after its first add', async () => {
      const add = (v: number) =>
        s.ok(201, 'alice', 'POST', '/api/v1/jobs', {
          queue: 'keyed',
          type: 't',
          payload: { v },
          dedupeKey: 'stream',
          dedupeMode: 'debounce',
          delayMs: 800,
          dedupeMaxWaitMs: 2_000,
        })
      const first = await add(1)
      const start = new Date(first.createdAt).getTime()
      for (let v = 2; v <= 7; v++) {
        clock.advance(300)
        const again = await add(v)
        assert.equal(again.id, first.id)
        assert.equal(new Date(again.runAt).getTime(), Math.min(clock.now().getTime() + 800, start + 2_000))
      }
      assert.equal(new Date((await add(8)).runAt).getTime(), start + 2_000, 'capped at the first add + 2 s')
      const spec = (await s.ok(200, null, 'GET', '/api/v1/openapi.json')) as {
        components: { schemas: Record<string, unknown> }
        paths: Record<string, { post?: { requestBody?: unknown } }>
      }
      assert.match(JSON.stringify(spec.paths['/api/v1/jobs']?.post?.requestBody), /dedupeMaxWaitMs/)
    })
  })
}
