/**
 * Health, readiness, the OpenAPI document and the docs page; queues from
 * creation to deletion, each answer read back from a fresh request.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { JOB_STATUSES } from '../../src/core/types.js'
import { type Driver, type Json, useServer } from './harness.js'

/** Every route of the API: [method, OpenAPI path]. */
export const ROUTES: [string, string][] = [
  ['GET', '/health'],
  ['GET', '/ready'],
  ['GET', '/metrics'],
  ['POST', '/api/v1/session'],
  ['GET', '/api/v1/session'],
  ['DELETE', '/api/v1/session'],
  ['GET', '/api/v1/keys'],
  ['POST', '/api/v1/keys'],
  ['DELETE', '/api/v1/keys/{id}'],
  ['GET', '/api/v1/queues'],
  ['POST', '/api/v1/queues'],
  ['GET', '/api/v1/queues/{name}'],
  ['PATCH', '/api/v1/queues/{name}'],
  ['DELETE', '/api/v1/queues/{name}'],
  ['POST', '/api/v1/queues/{name}/pause'],
  ['POST', '/api/v1/queues/{name}/resume'],
  ['POST', '/api/v1/queues/{name}/promote'],
  ['GET', '/api/v1/queues/{name}/stats'],
  ['GET', '/api/v1/stats'],
  ['POST', '/api/v1/jobs'],
  ['POST', '/api/v1/jobs/bulk'],
  ['POST', '/api/v1/jobs/upload'],
  ['GET', '/api/v1/jobs'],
  ['GET', '/api/v1/jobs/suggestions'],
  ['GET', '/api/v1/jobs/{id}'],
  ['GET', '/api/v1/jobs/{id}/view'],
  ['PATCH', '/api/v1/jobs/{id}'],
  ['DELETE', '/api/v1/jobs/{id}'],
  ['POST', '/api/v1/jobs/actions/{action}'],
  ['POST', '/api/v1/jobs/{id}/viewer-token'],
  ['DELETE', '/api/v1/jobs/{id}/viewer-tokens'],
  ['POST', '/api/v1/jobs/{id}/cancel'],
  ['POST', '/api/v1/jobs/{id}/retry'],
  ['POST', '/api/v1/jobs/{id}/promote'],
  ['POST', '/api/v1/jobs/{id}/artifacts'],
  ['GET', '/api/v1/jobs/{id}/artifacts'],
  ['GET', '/api/v1/artifacts/{id}'],
  ['POST', '/api/v1/batches'],
  ['GET', '/api/v1/batches'],
  ['GET', '/api/v1/batches/{id}'],
  ['POST', '/api/v1/batches/{id}/cancel'],
  ['POST', '/api/v1/batches/{id}/retry'],
  ['GET', '/api/v1/schedules'],
  ['POST', '/api/v1/schedules'],
  ['GET', '/api/v1/schedules/{id}'],
  ['PATCH', '/api/v1/schedules/{id}'],
  ['DELETE', '/api/v1/schedules/{id}'],
  ['POST', '/api/v1/schedules/{id}/pause'],
  ['POST', '/api/v1/schedules/{id}/resume'],
  ['POST', '/api/v1/schedules/{id}/run'],
  ['GET', '/api/v1/workers'],
  ['POST', '/api/v1/workers'],
  ['DELETE', '/api/v1/workers/{id}'],
  ['POST', '/api/v1/workers/{id}/remove'],
  ['POST', '/api/v1/workers/{id}/heartbeat'],
  ['POST', '/api/v1/workers/{id}/claim'],
  ['POST', '/api/v1/jobs/{id}/heartbeat'],
  ['POST', '/api/v1/jobs/{id}/progress'],
  ['POST', '/api/v1/jobs/{id}/events'],
  ['POST', '/api/v1/jobs/{id}/complete'],
  ['POST', '/api/v1/jobs/{id}/fail'],
  ['POST', '/api/v1/jobs/complete'],
  ['POST', '/api/v1/jobs/fail'],
  ['POST', '/api/v1/jobs/{id}/release'],
  ['POST', '/api/v1/jobs/{id}/snooze'],
  ['GET', '/api/v1/jobs/{id}/upstream'],
  ['GET', '/api/v1/jobs/{id}/result'],
  ['GET', '/api/v1/events'],
]

export function queuesSuite(driver: Driver): void {
  describe(`server: health, docs and queues [${driver}]`, () => {
    const s = useServer(driver)

    it('answers /health and /ready without a key', async () => {
      assert.deepEqual(await s.ok(200, null, 'GET', '/health'), { status: 'ok' })
      assert.deepEqual(await s.ok(200, null, 'GET', '/ready'), { status: 'ready', driver })
      assert.deepEqual(await s.ok(200, 'bogus', 'GET', '/health'), { status: 'ok' })
    })

    it('documents every route in /api/v1/openapi.json and serves /docs', async () => {
      const spec = await s.ok(200, null, 'GET', '/api/v1/openapi.json')
      assert.match(String(spec.openapi), /^3\./)
      for (const [method, path] of ROUTES) {
        assert.ok(
          s.app.hasRoute({ method, url: path.replace(/\{(\w+)\}/g, ':$1') }),
          `no route ${method} ${path}`,
        )
        assert.ok(spec.paths[path]?.[method.toLowerCase()], `OpenAPI lacks ${method} ${path}`)
      }
      const documented = Object.entries(spec.paths as Json).flatMap(([path, ops]) =>
        Object.keys(ops as Json)
          .filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
          .map((m) => `${m.toUpperCase()} ${path}`),
      )
      const known = new Set(ROUTES.map(([m, p]) => `${m} ${p}`))
      assert.deepEqual(
        documented.filter((op) => !known.has(op)),
        [],
        'routes in the OpenAPI document this suite does not know',
      )
      for (const name of [
        'Job',
        'JobDetail',
        'Queue',
        'Batch',
        'Worker',
        'Event',
        'Error',
        'Schedule',
        'ScheduleRun',
      ])
        assert.ok(spec.components.schemas[name], `no component schema ${name}`)
      const docs = await s.call(null, 'GET', '/docs')
      assert.equal(docs.status, 200)
      assert.match(docs.headers.get('content-type') ?? '', /text\/html/)
      assert.match(docs.text, /swagger/i)
    })

    it('creates a queue with every setting, and lists and gets it with counts by state', async () => {
      const created = await s.ok(201, 'admin', 'POST', '/api/v1/queues', {
        name: 'docs',
        description: 'document analysis',
        mode: 'automatic',
        concurrency: 2,
        ordering: 'fifo',
        maxAttempts: 5,
        backoff: { type: 'fixed', delayMs: 100 },
        timeoutMs: 60_000,
        retentionMs: 3_600_000,
        settings: { colour: 'blue' },
      })
      assert.equal(created.name, 'docs')
      assert.equal(created.description, 'document analysis')
      assert.equal(created.status, 'active')
      assert.equal(created.concurrency, 2)
      assert.equal(created.ordering, 'fifo')
      assert.equal(created.defaults.maxAttempts, 5)
      assert.equal(created.defaults.backoff.type, 'fixed')
      assert.equal(created.defaults.backoff.delayMs, 100)
      assert.equal(created.defaults.timeoutMs, 60_000)
      assert.equal(created.retentionMs, 3_600_000)
      assert.deepEqual(created.settings, { colour: 'blue' })
      const zero = Object.fromEntries(JOB_STATUSES.map((st) => [st, 0]))

      const listed = (await s.ok(200, 'alice', 'GET', '/api/v1/queues')).queues as Json[]
      assert.deepEqual(listed.find((q) => q.name === 'docs')?.counts, zero)
      await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'docs', type: 'a' })
      await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'docs', type: 'a', delayMs: 60_000 })
      const got = await s.ok(200, 'alice', 'GET', '/api/v1/queues/docs')
      assert.equal(got.description, 'document analysis')
      assert.deepEqual(got.counts, { ...zero, waiting: 1, scheduled: 1 })
      const again = (await s.ok(200, 'admin', 'GET', '/api/v1/queues')).queues as Json[]
      assert.deepEqual(again.find((q) => q.name === 'docs')?.counts, got.counts)
    })

    it('updates a queue’s mode, limit, ordering, retry defaults and retention', async () => {
      const patched = await s.ok(200, 'admin', 'PATCH', '/api/v1/queues/docs', {
        mode: 'manual',
        concurrency: 7,
        ordering: 'priority',
        maxAttempts: 2,
        backoff: { type: 'exponential', delayMs: 50 },
        retentionMs: null,
        description: null,
      })
      const got = await s.ok(200, 'admin', 'GET', '/api/v1/queues/docs')
      for (const q of [patched, got]) {
        assert.equal(q.mode, 'manual')
        assert.equal(q.concurrency, 7)
        assert.equal(q.ordering, 'priority')
        assert.equal(q.defaults.maxAttempts, 2)
        assert.equal(q.defaults.backoff.type, 'exponential')
        assert.equal(q.defaults.backoff.delayMs, 50)
        assert.equal(q.retentionMs, null)
        assert.equal(q.description, null)
        assert.equal(q.defaults.timeoutMs, 60_000, 'a field not in the patch is kept')
      }
      await s.ok(200, 'admin', 'PATCH', '/api/v1/queues/docs', { concurrency: null, mode: 'automatic' })
      assert.equal((await s.ok(200, 'admin', 'GET', '/api/v1/queues/docs')).concurrency, null)
    })

    it('pauses and resumes a queue', async () => {
      assert.equal((await s.ok(200, 'admin', 'POST', '/api/v1/queues/docs/pause')).status, 'paused')
      assert.equal((await s.ok(200, 'alice', 'GET', '/api/v1/queues/docs')).status, 'paused')
      await s.ok(201, 'worker', 'POST', '/api/v1/workers', { id: 'w-pause', queues: ['docs'] })
      const claimed = await s.ok(200, 'worker', 'POST', '/api/v1/workers/w-pause/claim', { queues: ['docs'] })
      assert.deepEqual(claimed.jobs, [], 'a paused queue hands out nothing')
      assert.equal((await s.ok(200, 'admin', 'POST', '/api/v1/queues/docs/resume')).status, 'active')
      assert.equal((await s.ok(200, 'alice', 'GET', '/api/v1/queues/docs')).status, 'active')
    })

    it('promotes every held job of a manual queue', async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'manual', mode: 'manual' })
      const held = await s.ok(201, 'admin', 'POST', '/api/v1/jobs/bulk', {
        jobs: [1, 2, 3].map((i) => ({ queue: 'manual', type: 'm', payload: { i } })),
      })
      assert.deepEqual(
        held.jobs.map((j: Json) => j.status),
        ['held', 'held', 'held'],
      )
      assert.deepEqual(await s.ok(200, 'admin', 'POST', '/api/v1/queues/manual/promote'), { promoted: 3 })
      const counts = (await s.ok(200, 'admin', 'GET', '/api/v1/queues/manual')).counts
      assert.equal(counts.held, 0)
      assert.equal(counts.waiting, 3)
      assert.deepEqual(await s.ok(200, 'admin', 'POST', '/api/v1/queues/manual/promote'), { promoted: 0 })
    })

    it('deletes an empty queue, refuses one with live jobs unless forced, and forced deletes its jobs', async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'empty' })
      assert.deepEqual(await s.ok(200, 'admin', 'DELETE', '/api/v1/queues/empty'), { ok: true })
      await s.fail(404, 'NOT_FOUND', 'admin', 'GET', '/api/v1/queues/empty')

      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'busy' })
      const job = await s.ok(201, 'admin', 'POST', '/api/v1/jobs', { queue: 'busy', type: 't' })
      const before = await s.snapshot()
      await s.fail(409, 'CONFLICT', 'admin', 'DELETE', '/api/v1/queues/busy')
      await s.fail(409, 'CONFLICT', 'admin', 'DELETE', '/api/v1/queues/busy?force=false')
      assert.deepEqual(await s.snapshot(), before, 'a refused delete changes nothing')

      assert.deepEqual(await s.ok(200, 'admin', 'DELETE', '/api/v1/queues/busy?force=true'), { ok: true })
      await s.fail(404, 'NOT_FOUND', 'admin', 'GET', '/api/v1/queues/busy')
      await s.fail(404, 'NOT_FOUND', 'admin', 'GET', `/api/v1/jobs/${job.id}`)
      const names = ((await s.ok(200, 'admin', 'GET', '/api/v1/queues')).queues as Json[]).map((q) => q.name)
      assert.deepEqual(names.sort(), ['docs', 'manual'])
    })
  })
}
