/**
 * Jobs, batches and the worker list over HTTP: create one and many, list
 * with every filter, page through with cursors, sort, read a job with its
 * events and dependencies, and steer it (cancel, retry, promote, priority,
 * delete).
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { before, describe, it } from 'node:test'
import { type Driver, type Json, type Server, useServer } from './harness.js'

type Page = { jobs: Json[]; nextCursor: string | null }

/** Every job a listing returns, following nextCursor page by page. */
export async function allPages(s: Server, who: 'admin' | 'alice' | 'bob', query: string): Promise<Json[][]> {
  const pages: Json[][] = []
  let cursor: string | null = null
  do {
    const q: string = cursor ? `${query}&cursor=${encodeURIComponent(cursor)}` : query
    const page = (await s.ok(200, who, 'GET', `/api/v1/jobs?${q}`)) as Page
    pages.push(page.jobs)
    cursor = page.nextCursor
    assert.ok(pages.length < 100, 'pagination does not end')
  } while (cursor)
  return pages
}

/** A worker claims the job and fails it for good, so that it is `failed`. */
async function failForGood(s: Server, queue: string, count = 1): Promise<void> {
  await s.ok(201, 'worker', 'POST', '/api/v1/workers', { id: 'w-jobs', queues: [queue] })
  const claimed = await s.ok(200, 'worker', 'POST', '/api/v1/workers/w-jobs/claim', {
    queues: [queue],
    limit: count,
  })
  assert.equal(claimed.jobs.length, count)
  for (const job of claimed.jobs)
    await s.ok(200, 'worker', 'POST', `/api/v1/jobs/${job.id}/fail`, {
      token: job.lease.token,
      error: { message: 'broken' },
      retryable: false,
    })
}

export function jobsSuite(driver: Driver): void {
  describe(`server: jobs, batches and workers [${driver}]`, () => {
    const s = useServer(driver)
    before(async () => {
      for (const name of ['docs', 'media', 'pages', 'manual', 'broken', 'brittle'])
        await s.ok(201, 'admin', 'POST', '/api/v1/queues', {
          name,
          mode: name === 'manual' ? 'manual' : 'automatic',
        })
    })

    it('creates a job, owned by the user who asked', async () => {
      const job = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', {
        queue: 'docs',
        type: 'analyse',
        payload: { file: 'deck.pdf', pages: [1, 2] },
        priority: 'high',
        maxAttempts: 4,
        capabilities: ['ocr'],
        estimatedDurationMs: 5000,
      })
      assert.match(job.id, /^[0-9a-f-]{36}$/)
      assert.equal(job.owner, 'alice')
      assert.equal(job.status, 'waiting')
      assert.equal(job.priority, 75)
      assert.equal(job.maxAttempts, 4)
      assert.equal(job.attempts, 0)
      assert.deepEqual(job.payload, { file: 'deck.pdf', pages: [1, 2] })
      assert.deepEqual(job.capabilities, ['ocr'])
      assert.equal(job.lease, null)
      const byAdmin = await s.ok(201, 'admin', 'POST', '/api/v1/jobs', {
        queue: 'docs',
        type: 'x',
        owner: 'bob',
      })
      assert.equal(byAdmin.owner, 'bob')
      const mine = await s.ok(201, 'bob', 'POST', '/api/v1/jobs', { queue: 'media', type: 'x', owner: 'bob' })
      assert.equal(mine.owner, 'bob')
    })

    it('creates many jobs at once, with dependencies between them', async () => {
      const parent = randomUUID()
      const child = randomUUID()
      const bulk = await s.ok(201, 'alice', 'POST', '/api/v1/jobs/bulk', {
        jobs: [
          { id: parent, queue: 'docs', type: 'extract', priority: 10 },
          { id: child, queue: 'docs', type: 'summarise', dependsOn: [parent] },
          { queue: 'media', type: 'render', delayMs: 60_000 },
        ],
      })
      assert.deepEqual(
        bulk.jobs.map((j: Json) => [j.type, j.status, j.owner]),
        [
          ['extract', 'waiting', 'alice'],
          ['summarise', 'blocked', 'alice'],
          ['render', 'scheduled', 'alice'],
        ],
      )
      // A user's ids are scoped to the user: the jobs get ids derived from them, the same every time.
      const [p, c] = bulk.jobs.map((j: Json) => j.id as string)
      assert.ok(p !== parent && c !== child)
      const up = await s.ok(200, 'alice', 'GET', `/api/v1/jobs/${c}`)
      assert.deepEqual(up.dependencies, {
        upstream: [{ id: p, status: 'waiting', on: 'success' }],
        downstream: [],
      })
      assert.equal(up.pendingDependencies, 1)
      const down = await s.ok(200, 'alice', 'GET', `/api/v1/jobs/${p}`)
      assert.deepEqual(down.dependencies, {
        upstream: [],
        downstream: [{ id: c, status: 'blocked', on: 'success' }],
      })
      const retried = await s.fail(409, 'CONFLICT', 'alice', 'POST', '/api/v1/jobs', {
        id: parent,
        queue: 'docs',
        type: 'extract',
      })
      assert.equal(retried.details.id, p, 'the same user and id name the same job')
      // A later request names the job by the id the server returned.
      const later = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', {
        queue: 'docs',
        type: 'x',
        dependsOn: [p],
      })
      assert.equal(later.status, 'blocked')
    })

    it('gets a job with its events, dependencies and artifacts', async () => {
      const job = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'docs', type: 'detail' })
      const detail = await s.ok(200, 'alice', 'GET', `/api/v1/jobs/${job.id}`)
      assert.equal(detail.id, job.id)
      assert.equal(detail.type, 'detail')
      assert.deepEqual(detail.artifacts, [])
      assert.deepEqual(detail.dependencies, { upstream: [], downstream: [] })
      assert.equal(detail.events.length, 1)
      assert.equal(detail.events[0].kind, 'added')
      assert.equal(detail.events[0].jobId, job.id)
      assert.equal(detail.events[0].status, 'waiting')
      await s.ok(200, 'alice', 'POST', `/api/v1/jobs/${job.id}/cancel`)
      const after = await s.ok(200, 'alice', 'GET', `/api/v1/jobs/${job.id}`)
      assert.deepEqual(
        after.events.map((e: Json) => [e.kind, e.status]),
        [
          ['added', 'waiting'],
          ['state', 'cancelled'],
        ],
      )
    })

    it('lists with each filter: queue, status (comma-separated), type, owner, batchId', async () => {
      const all = (await s.ok(200, 'admin', 'GET', '/api/v1/jobs?limit=1000')).jobs as Json[]
      const expect = async (query: string, keep: (j: Json) => boolean) => {
        const got = (await s.ok(200, 'admin', 'GET', `/api/v1/jobs?limit=1000&${query}`)).jobs as Json[]
        const want = all.filter(keep)
        assert.ok(want.length > 0, `${query} should match something in this test`)
        assert.deepEqual(got.map((j) => j.id).sort(), want.map((j) => j.id).sort(), query)
      }
      await expect('queue=media', (j) => j.queue === 'media')
      await expect('status=waiting', (j) => j.status === 'waiting')
      await expect('status=blocked,scheduled', (j) => ['blocked', 'scheduled'].includes(j.status))
      await expect('type=analyse', (j) => j.type === 'analyse')
      await expect('owner=bob', (j) => j.owner === 'bob')
      await expect(
        'queue=docs&status=waiting&owner=alice',
        (j) => j.queue === 'docs' && j.status === 'waiting' && j.owner === 'alice',
      )
      const { batch } = await s.ok(201, 'alice', 'POST', '/api/v1/batches', {
        jobs: [
          { queue: 'docs', type: 'b' },
          { queue: 'media', type: 'b' },
        ],
      })
      const inBatch = (await s.ok(200, 'alice', 'GET', `/api/v1/jobs?batchId=${batch.id}`)).jobs as Json[]
      assert.equal(inBatch.length, 2)
      assert.ok(inBatch.every((j) => j.batchId === batch.id))
    })

    it('pages through with cursors, visiting each job exactly once, in every sort and order', async () => {
      const made = await s.ok(201, 'admin', 'POST', '/api/v1/jobs/bulk', {
        jobs: Array.from({ length: 11 }, (_, i) => ({
          queue: 'pages',
          type: 'p',
          priority: [10, 50, 50, 90][i % 4],
          delayMs: (i % 3) * 1000,
        })),
      })
      const ids = (made.jobs as Json[]).map((j) => j.id).sort()
      for (const sort of ['createdAt', 'priority', 'runAt'])
        for (const order of ['asc', 'desc']) {
          const pages = await allPages(s, 'admin', `queue=pages&limit=3&sort=${sort}&order=${order}`)
          assert.ok(pages.length >= 4, `${sort} ${order}: ${pages.length} pages`)
          assert.ok(pages.every((p) => p.length <= 3))
          const seen = pages.flat()
          assert.deepEqual(seen.map((j) => j.id).sort(), ids, `${sort} ${order}: each job once`)
          const values = seen.map((j) => (sort === 'priority' ? j.priority : Date.parse(j[sort])))
          const sorted = [...values].sort((a, b) => (order === 'asc' ? a - b : b - a))
          assert.deepEqual(values, sorted, `${sort} ${order}: in order across pages`)
        }
      const desc = (await s.ok(200, 'admin', 'GET', '/api/v1/jobs?queue=pages&limit=1000')).jobs as Json[]
      const created = desc.map((j) => Date.parse(j.createdAt))
      assert.deepEqual(
        created,
        [...created].sort((a, b) => b - a),
        'newest first by default',
      )
    })

    it('cancels, retries, promotes, changes priority and deletes a job', async () => {
      const job = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'docs', type: 'steer' })
      const path = `/api/v1/jobs/${job.id}`
      assert.equal((await s.ok(200, 'alice', 'PATCH', path, { priority: 'urgent' })).priority, 100)
      assert.equal((await s.ok(200, 'alice', 'PATCH', path, { priority: 7 })).priority, 7)
      assert.equal((await s.ok(200, 'alice', 'GET', path)).priority, 7)
      assert.equal((await s.ok(200, 'alice', 'POST', `${path}/cancel`)).status, 'cancelled')
      await s.fail(409, 'INVALID_STATE', 'alice', 'POST', `${path}/cancel`)
      assert.equal((await s.ok(200, 'alice', 'POST', `${path}/retry`)).status, 'waiting')
      await s.fail(409, 'INVALID_STATE', 'alice', 'POST', `${path}/promote`)

      const held = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'manual', type: 'h' })
      assert.equal(held.status, 'held')
      assert.equal((await s.ok(200, 'alice', 'POST', `/api/v1/jobs/${held.id}/promote`)).status, 'waiting')
      const later = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', {
        queue: 'docs',
        type: 'h',
        delayMs: 60_000,
      })
      assert.equal(later.status, 'scheduled')
      const promoted = await s.ok(200, 'alice', 'POST', `/api/v1/jobs/${later.id}/promote`)
      assert.equal(promoted.status, 'waiting')
      assert.ok(Date.parse(promoted.runAt) <= Date.now() + 1000)

      assert.deepEqual(await s.ok(200, 'alice', 'DELETE', path), { ok: true })
      await s.fail(404, 'NOT_FOUND', 'alice', 'GET', path)
      await s.fail(404, 'NOT_FOUND', 'admin', 'DELETE', path)
    })

    it('retries a failed job', async () => {
      const job = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'broken', type: 'f' })
      await failForGood(s, 'broken')
      const failed = await s.ok(200, 'alice', 'GET', `/api/v1/jobs/${job.id}`)
      assert.equal(failed.status, 'failed')
      assert.equal(failed.lastError.message, 'broken')
      const retried = await s.ok(200, 'alice', 'POST', `/api/v1/jobs/${job.id}/retry`)
      assert.equal(retried.status, 'waiting')
      await s.fail(409, 'INVALID_STATE', 'alice', 'POST', `/api/v1/jobs/${job.id}/retry`)
    })

    it('creates a batch, reads its counts and progress, cancels it and retries its failed jobs', async () => {
      const created = await s.ok(201, 'alice', 'POST', '/api/v1/batches', {
        name: 'quarterly',
        jobs: [1, 2, 3].map((i) => ({ queue: 'docs', type: 'q', payload: { i } })),
      })
      const { batch } = created
      assert.equal(batch.name, 'quarterly')
      assert.equal(batch.owner, 'alice')
      assert.equal(batch.total, 3)
      assert.equal(batch.counts.waiting, 3)
      assert.equal(batch.progress, 0)
      assert.ok(created.jobs.every((j: Json) => j.batchId === batch.id && j.owner === 'alice'))
      assert.deepEqual(await s.ok(200, 'alice', 'GET', `/api/v1/batches/${batch.id}`), batch)

      const cancelled = await s.ok(200, 'alice', 'POST', `/api/v1/batches/${batch.id}/cancel`)
      assert.equal(cancelled.changed, 3)
      assert.equal(cancelled.batch.counts.cancelled, 3)
      assert.equal(cancelled.batch.counts.waiting, 0)
      assert.equal((await s.ok(200, 'alice', 'POST', `/api/v1/batches/${batch.id}/cancel`)).changed, 0)

      const failing = await s.ok(201, 'alice', 'POST', '/api/v1/batches', {
        jobs: [
          { queue: 'brittle', type: 'f' },
          { queue: 'brittle', type: 'f' },
          { queue: 'docs', type: 'ok' },
        ],
      })
      await failForGood(s, 'brittle', 2)
      const before = await s.ok(200, 'alice', 'GET', `/api/v1/batches/${failing.batch.id}`)
      assert.equal(before.counts.failed, 2)
      const retried = await s.ok(200, 'alice', 'POST', `/api/v1/batches/${failing.batch.id}/retry`)
      assert.equal(retried.changed, 2)
      assert.equal(retried.batch.counts.failed, 0)
      assert.equal(retried.batch.counts.waiting, 3)
    })

    it('lists workers with kind, capabilities, load and heartbeat age', async () => {
      const { id } = await s.ok(201, 'worker', 'POST', '/api/v1/workers', {
        id: 'gpu-7',
        host: 'box-7',
        kind: 'gpu',
        capabilities: ['gpu', 'ocr'],
        queues: ['docs', 'media'],
        concurrency: 4,
      })
      assert.equal(id, 'gpu-7')
      await s.ok(200, 'worker', 'POST', '/api/v1/workers/gpu-7/heartbeat', { load: 3 })
      const workers = (await s.ok(200, 'admin', 'GET', '/api/v1/workers')).workers as Json[]
      const w = workers.find((x) => x.id === 'gpu-7')
      assert.ok(w, 'the registered worker is listed')
      assert.equal(w.host, 'box-7')
      assert.equal(w.kind, 'gpu')
      assert.deepEqual(w.capabilities, ['gpu', 'ocr'])
      assert.deepEqual(w.queues, ['docs', 'media'])
      assert.equal(w.concurrency, 4)
      assert.equal(w.load, 3)
      assert.equal(w.status, 'up')
      assert.ok(Number.isInteger(w.heartbeatAgeMs) && w.heartbeatAgeMs >= 0 && w.heartbeatAgeMs < 60_000)
    })
  })
}
