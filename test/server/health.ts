/**
 * Queue health over HTTP: on GET /queues, /queues/{name} and
 * /queues/{name}/stats, scoped to a user's own jobs (someone else's failures
 * are not in their counts or top errors), and the latency gauge in /metrics;
 * and removing a stopped worker (admin only; one that is up answers 409).
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { type Driver, type Json, useServer } from './harness.js'

export function healthSuite(driver: Driver): void {
  describe(`server: queue health and the worker registry [${driver}]`, () => {
    const s = useServer(driver)
    let bobsFailure: string

    before(async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'health', maxAttempts: 1 })
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'idle' })
      await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'health', type: 'ok' })
      const failWith = async (who: 'alice' | 'bob', message: string) => {
        const job = await s.ok(201, who, 'POST', '/api/v1/jobs', { queue: 'health', type: 'bad' })
        const [claimed] = await s.docket.workers.claim({ workerId: 'w-h', queues: ['health'], limit: 1 })
        assert.equal(claimed?.id, job.id)
        await s.docket.workers.fail(claimed!, { name: 'DeployError', message })
        return job.id as string
      }
      // The first job (alice's 'ok') is claimed by the first failWith; complete it instead.
      const [first] = await s.docket.workers.claim({ workerId: 'w-h', queues: ['health'], limit: 1 })
      await s.docket.workers.complete(first!, null)
      await failWith('alice', 'column "x" does not exist')
      bobsFailure = await failWith('bob', 'column "x" does not exist')
      await failWith('bob', 'bob only')
      await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'health', type: 'waiting' })
    })

    it('GET /queues/{name} shows the health an admin sees: every job', async () => {
      const q = await s.ok(200, 'admin', 'GET', '/api/v1/queues/health')
      const h = q.health as Json
      assert.deepEqual(Object.keys(h).sort(), [
        'backlogTrendPerMinute',
        'latencyMs',
        'rates',
        'stalled',
        'topErrors',
      ])
      assert.ok(h.latencyMs >= 0)
      assert.equal(h.stalled, false)
      assert.deepEqual(h.rates.lastMinute, { completed: 1, failed: 3 })
      assert.deepEqual(
        h.topErrors.map((e: Json) => [e.name, e.message, e.count]),
        [
          ['DeployError', 'column "x" does not exist', 2],
          ['DeployError', 'bob only', 1],
        ],
      )
      assert.equal(h.topErrors[0].latestJobId, bobsFailure)
      assert.match(h.topErrors[0].latestAt, /^\d{4}-\d\d-\d\dT/)
    })

    it("a user's health covers their own jobs only: others' failures are not there", async () => {
      const mine = (await s.ok(200, 'alice', 'GET', '/api/v1/queues/health')).health as Json
      assert.deepEqual(mine.rates.lastMinute, { completed: 1, failed: 1 })
      assert.deepEqual(
        mine.topErrors.map((e: Json) => [e.message, e.count]),
        [['column "x" does not exist', 1]],
      )
      assert.notEqual(mine.topErrors[0].latestJobId, bobsFailure)
      const listed = (await s.ok(200, 'alice', 'GET', '/api/v1/queues')).queues as Json[]
      const { latencyMs: _, ...rest } = listed.find((q) => q.name === 'health')!.health
      const { latencyMs: __, ...mineRest } = mine
      assert.deepEqual(rest, mineRest, 'the list shows the same health')
      const bobs = (await s.ok(200, 'bob', 'GET', '/api/v1/queues/health')).health as Json
      assert.equal(bobs.latencyMs, 0, "alice's waiting job is not bob's backlog")
      assert.ok(!JSON.stringify(await s.ok(200, 'alice', 'GET', '/api/v1/queues')).includes('bob only'))
    })

    it("top errors carry the fingerprint, its normalized text and first and last seen; GET /jobs?fingerprint= lists the class's jobs, one's own only", async () => {
      const h = (await s.ok(200, 'admin', 'GET', '/api/v1/queues/health')).health as Json
      const top = h.topErrors[0]
      assert.match(top.fingerprint, /^[0-9a-f]{12}$/)
      assert.equal(top.normalized, 'DeployError: column <str> does not exist')
      assert.match(top.firstSeenAt, /^\d{4}-\d\d-\d\dT/)
      assert.equal(top.lastSeenAt, top.latestAt)
      const ids = async (who: 'admin' | 'alice' | 'bob', query: string) =>
        ((await s.ok(200, who, 'GET', `/api/v1/jobs?${query}`)).jobs as Json[]).map((j) => j.id)
      const all = await ids('admin', `queue=health&fingerprint=${top.fingerprint}`)
      assert.equal(all.length, 2)
      assert.ok(all.includes(bobsFailure))
      const alices = await ids('alice', `fingerprint=${top.fingerprint}`)
      assert.equal(alices.length, 1)
      assert.ok(!alices.includes(bobsFailure), "bob's failure is not in alice's list")
      const job = await s.ok(200, 'admin', 'GET', `/api/v1/jobs/${bobsFailure}`)
      assert.equal(job.lastError.fingerprint, top.fingerprint)
      const bad = await s.call('admin', 'GET', '/api/v1/jobs?fingerprint=not-hex')
      assert.equal(bad.status, 400)
      assert.match(bad.text, /fingerprint/)
    })

    it('a paused queue with ready jobs is stalled, in the list and the stats', async () => {
      await s.ok(200, 'admin', 'POST', '/api/v1/queues/health/pause')
      try {
        const listed = (await s.ok(200, 'admin', 'GET', '/api/v1/queues')).queues as Json[]
        assert.equal(listed.find((q) => q.name === 'health')!.health.stalled, true)
        assert.equal(listed.find((q) => q.name === 'idle')!.health.stalled, false)
        const stats = await s.ok(200, 'admin', 'GET', '/api/v1/queues/health/stats')
        assert.equal(stats.health.stalled, true)
        assert.equal(stats.health.topErrors[0].count, 2)
      } finally {
        await s.ok(200, 'admin', 'POST', '/api/v1/queues/health/resume')
      }
    })

    it('/metrics has docket_queue_latency_seconds per queue', async () => {
      const r = await s.call('admin', 'GET', '/metrics')
      assert.equal(r.status, 200)
      assert.match(r.text, /# TYPE docket_queue_latency_seconds gauge/)
      const line = r.text
        .split('\n')
        .find((l) => l.startsWith('docket_queue_latency_seconds{queue="health"}'))
      assert.ok(line, r.text)
      assert.ok(Number(line.split(' ')[1]) >= 0)
      assert.match(r.text, /^docket_queue_latency_seconds\{queue="idle"\} 0$/m)
    })

    it('POST /workers/{id}/remove forgets a stopped worker; one that is up answers 409', async () => {
      const { id } = await s.ok(201, 'worker', 'POST', '/api/v1/workers', { queues: ['idle'] })
      const up = await s.fail(409, 'INVALID_STATE', 'admin', 'POST', `/api/v1/workers/${id}/remove`)
      assert.equal(up.details.workerId, id)
      await s.fail(403, 'FORBIDDEN', 'worker', 'POST', `/api/v1/workers/${id}/remove`)
      await s.ok(200, 'worker', 'DELETE', `/api/v1/workers/${id}`)
      await s.fail(403, 'FORBIDDEN', 'alice', 'POST', `/api/v1/workers/${id}/remove`)
      assert.deepEqual(await s.ok(200, 'admin', 'POST', `/api/v1/workers/${id}/remove`), { ok: true })
      const { workers } = await s.ok(200, 'admin', 'GET', '/api/v1/workers')
      assert.ok(!workers.some((w: Json) => w.id === id))
      await s.fail(404, 'NOT_FOUND', 'admin', 'POST', `/api/v1/workers/${id}/remove`)
    })
  })
}
