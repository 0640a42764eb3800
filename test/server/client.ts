/**
 * `docket/client` against a real server: DocketClient's verbs, its errors,
 * the feed iterator, and RemoteWorker running jobs with the Worker's context
 * verbs, cancellation, failures and shutdown, all over HTTP only.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect } from 'node:net'
import { before, describe, it } from 'node:test'
import {
  ApiError,
  ConnectionError,
  DocketClient,
  type FeedEvent,
  isDocketError,
  RemoteWorker,
  RetryAfterError,
  UnrecoverableError,
} from '../../src/client/index.js'
import { type Driver, useServer } from './harness.js'

const until = async (check: () => Promise<boolean> | boolean, what: string, ms = 10_000) => {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

export function clientSuite(driver: Driver): void {
  describe(`docket/client [${driver}]`, () => {
    const s = useServer(driver)
    let admin: DocketClient
    let alice: DocketClient
    let bob: DocketClient
    let worker: DocketClient
    before(async () => {
      admin = new DocketClient({ url: s.base, key: s.keys.admin })
      alice = new DocketClient(s.base, s.keys.alice)
      bob = new DocketClient(s.base, s.keys.bob)
      worker = new DocketClient({ url: s.base, key: s.keys.worker })
      await admin.createQueue({ name: 'c-docs' })
      await admin.createQueue({ name: 'c-remote' })
    })

    it("adds, reads, lists page by page, steers and deletes jobs; someone else's is NOT_FOUND", async () => {
      const job = await alice.add({ queue: 'c-docs', type: 'analyse', payload: { n: 1 }, priority: 'high' })
      assert.equal(job.status, 'waiting')
      assert.equal(job.priority, 75)
      const many = await alice.addMany(
        [1, 2, 3].map((n) => ({ queue: 'c-docs', type: 'page', payload: { n } })),
      )
      assert.equal(many.length, 3)
      const detail = await alice.get(job.id)
      assert.deepEqual(detail.payload, { n: 1 })
      assert.ok(Array.isArray(detail.events))
      const page = await alice.list({ queue: 'c-docs', type: 'page', limit: 2 })
      assert.equal(page.jobs.length, 2)
      assert.ok(page.nextCursor)
      const all: string[] = []
      for await (const j of alice.jobs({ queue: 'c-docs', type: 'page', limit: 2 })) all.push(j.id)
      assert.deepEqual(all.sort(), many.map((j) => j.id).sort())
      assert.equal((await alice.update(job.id, { priority: 'urgent' })).priority, 100)
      assert.equal((await alice.cancel(job.id)).status, 'cancelled')
      assert.equal((await alice.retryJob(job.id)).status, 'waiting')

      const theirs = await bob.get(job.id).catch((e: unknown) => e)
      assert.ok(theirs instanceof ApiError)
      assert.equal(theirs.code, 'NOT_FOUND')
      assert.equal(theirs.status, 404)
      assert.ok(isDocketError(theirs, 'NOT_FOUND'))
      await alice.remove(job.id)
      await assert.rejects(alice.get(job.id), (e: unknown) => isDocketError(e, 'NOT_FOUND'))
      const bad = await alice.add({ queue: 'c-docs', type: '', payload: null }).catch((e: unknown) => e)
      assert.ok(isDocketError(bad, 'INVALID_ARGUMENT'))
      assert.match(JSON.stringify(bad.details), /type/)
    })

    it('uploads files with a job and downloads them; waits for a job to end', async () => {
      const { job, artifacts } = await alice.upload({ queue: 'c-docs', type: 'process' }, [
        { name: 'note.txt', data: 'hello from the client', mediaType: 'text/plain' },
      ])
      assert.equal(artifacts.length, 1)
      assert.deepEqual(
        (await alice.artifacts(job.id)).map((a) => a.name),
        ['note.txt'],
      )
      const bytes = await alice.download(artifacts[0]!.id)
      assert.equal(new TextDecoder().decode(bytes), 'hello from the client')

      const early = await alice.waitForJob(job.id, { timeoutMs: 30 }).catch((e: unknown) => e)
      assert.ok(isDocketError(early, 'WAIT_TIMEOUT'))
      assert.equal(early.details.status, 'waiting')
      const waiting = alice.waitForJob(job.id, { timeoutMs: 30_000 })
      await alice.cancel(job.id)
      assert.equal((await waiting).status, 'cancelled')
    })

    it('follows the feed as an async iterator, resuming after a given event id', async () => {
      const job = await alice.add({ queue: 'c-docs', type: 'watched' })
      const controller = new AbortController()
      const seen: FeedEvent[] = []
      const reading = (async () => {
        for await (const e of alice.events({ jobId: job.id, after: 0, signal: controller.signal })) {
          seen.push(e)
          if (e.kind === 'job.cancelled') break
        }
      })()
      await until(() => seen.length >= 1, 'the added event')
      await alice.cancel(job.id)
      await reading
      assert.deepEqual(
        seen.map((e) => e.kind),
        ['job.added', 'job.cancelled'],
      )
      // From the first event's id: only what came after it.
      const rest: string[] = []
      for await (const e of alice.events({ jobId: job.id, after: seen[0]!.id })) {
        rest.push(e.kind)
        break
      }
      assert.deepEqual(rest, ['job.cancelled'])
      controller.abort()
    })

    it('manages queues, batches, schedules and keys', async () => {
      await admin.createQueue({ name: 'c-made', concurrency: 2 })
      assert.equal((await admin.updateQueue('c-made', { concurrency: 3 })).concurrency, 3)
      assert.equal((await admin.pauseQueue('c-made')).status, 'paused')
      assert.equal((await admin.resumeQueue('c-made')).status, 'active')
      assert.ok((await admin.listQueues()).some((q) => q.name === 'c-made'))
      const { batch } = await alice.addBatch({ jobs: [{ queue: 'c-made', type: 'p' }], name: 'deck' })
      assert.equal((await alice.getBatch(batch.id)).total, 1)
      await alice.cancelBatch(batch.id)
      const schedule = await admin.createSchedule({
        name: 'c-nightly',
        queue: 'c-made',
        type: 'report',
        cron: '0 3 * * *',
      })
      assert.equal((await admin.pauseSchedule(schedule.id)).enabled, false)
      assert.ok((await admin.listSchedules({ name: 'c-nightly' })).length === 1)
      await admin.deleteSchedule(schedule.id)
      const created = await admin.createKey('c-ci', 'worker')
      assert.match(created.key, /^dk_/)
      await admin.revokeKey(created.id)
      const denied = await alice.createQueue({ name: 'c-no' }).catch((e: unknown) => e)
      assert.ok(isDocketError(denied, 'FORBIDDEN'))
    })

    it('closes a connection that never carried a request at once when the server closes', async () => {
      // A client that gave up while connecting leaves such a connection in its pool.
      const spare = await s.spare()
      const socket = connect(Number(new URL(spare.client.base).port), '127.0.0.1')
      await once(socket, 'connect')
      const closed = once(socket, 'close')
      await spare.close()
      await closed
    })

    it('says a server that does not answer is a ConnectionError, and honours Retry-After', async () => {
      const gone = new DocketClient({ url: 'http://127.0.0.1:9', key: 'dk_x', retries: 0 })
      await assert.rejects(gone.listQueues(), (e: unknown) => e instanceof ConnectionError)
      // The server's answer, once preceded by a 429 with Retry-After: the client waits and asks again.
      let calls = 0
      const throttled = new DocketClient({
        url: s.base,
        key: s.keys.admin,
        fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
          calls++
          if (calls === 1) return new Response('{}', { status: 429, headers: { 'retry-after': '0' } })
          return fetch(input, init)
        },
      })
      assert.ok((await throttled.listQueues()).length > 0)
      assert.equal(calls, 2)
    })

    it('RemoteWorker batches its completions: carried by claims or sent together, never one call per job', async () => {
      await admin.createQueue({ name: 'c-batched' })
      const paths: string[] = []
      const counting = new DocketClient({
        url: s.base,
        key: s.keys.worker,
        fetch: (input: RequestInfo | URL, init?: RequestInit) => {
          const request = input instanceof Request ? input : new Request(input, init)
          paths.push(`${request.method} ${new URL(request.url).pathname}`)
          return fetch(request)
        },
      })
      const jobs = await alice.addMany(
        Array.from({ length: 40 }, (_, n) => ({ queue: 'c-batched', type: 'noop', payload: { n } })),
      )
      const remote = await new RemoteWorker(counting, {
        queues: ['c-batched'],
        concurrency: 10,
        waitMs: 200,
        handlers: { noop: (job) => job.payload },
      }).start()
      try {
        const ended = await Promise.all(jobs.map((j) => alice.waitForJob(j.id, { timeoutMs: 20_000 })))
        assert.deepEqual(
          ended.map((j) => j.status),
          jobs.map(() => 'completed'),
        )
        assert.deepEqual(
          ended.map((j) => j.result),
          jobs.map((_, n) => ({ n })),
        )
      } finally {
        await remote.close()
      }
      assert.equal(paths.filter((p) => /\/jobs\/[^/]+\/complete$/.test(p)).length, 0, 'no single completions')
      const sends = paths.filter((p) => p.endsWith('/claim') || p === 'POST /api/v1/jobs/complete')
      assert.ok(sends.length < jobs.length, `${sends.length} claims and bulk sends for ${jobs.length} jobs`)
    })

    it('RemoteWorker runs jobs over HTTP with the context verbs, fails and retries as told, and hands back on close', async () => {
      const upstream = await alice.add({ queue: 'c-remote', type: 'first' })
      const seen: { id: string; attempt: number; upstream: unknown[] }[] = []
      const remote = new RemoteWorker(worker, {
        queues: ['c-remote'],
        concurrency: 2,
        leaseMs: 5_000,
        waitMs: 200,
        shutdownGraceMs: 100,
        handlers: {
          first: async (_job, ctx) => {
            await ctx.progress(50, 'half')
            const n = await ctx.step('count', () => 41 + 1)
            await ctx.log('counted', { n })
            await ctx.saveOutput({ name: 'out.txt', data: `n=${n}`, mediaType: 'text/plain' })
            return { n }
          },
          second: async (job, ctx) => {
            seen.push({ id: job.id, attempt: ctx.attempt, upstream: await ctx.upstream() })
            const files = await ctx.artifacts()
            return { files: files.length }
          },
          broken: () => {
            throw new UnrecoverableError('no pages')
          },
          later: () => {
            throw new RetryAfterError(60_000, 'upstream 429')
          },
          slow: (_job, ctx) =>
            new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
        },
      })
      await remote.start()
      try {
        assert.ok(remote.id)
        const first = await alice.waitForJob(upstream.id, { timeoutMs: 20_000 })
        assert.equal(first.status, 'completed')
        assert.deepEqual(first.result, { n: 42 })
        assert.ok(first.events.some((e) => e.kind === 'progress' && e.percent === 50 && e.message === 'half'))
        assert.ok(first.events.some((e) => e.kind === 'step.completed' && e.step === 'count'))
        assert.ok(first.events.some((e) => e.kind === 'log' && e.message === 'counted'))
        assert.deepEqual(
          (await alice.artifacts(upstream.id)).map((a) => a.name),
          ['out.txt'],
        )

        const second = await alice.add({ queue: 'c-remote', type: 'second', dependsOn: [upstream.id] })
        assert.deepEqual((await alice.waitForJob(second.id, { timeoutMs: 20_000 })).result, { files: 0 })
        assert.equal(seen[0]!.attempt, 1)
        assert.deepEqual(
          seen[0]!.upstream.map((u) => (u as { result: unknown }).result),
          [{ n: 42 }],
        )

        const broken = await alice.add({ queue: 'c-remote', type: 'broken', maxAttempts: 5 })
        const failed = await alice.waitForJob(broken.id, { timeoutMs: 20_000 })
        assert.equal(failed.status, 'failed')
        assert.equal(failed.attempts, 1)
        const later = await alice.add({ queue: 'c-remote', type: 'later', maxAttempts: 5 })
        await until(async () => (await alice.get(later.id)).status === 'scheduled', 'the retry-after')
        const retried = await alice.get(later.id)
        assert.ok(
          Date.parse(retried.runAt) - Date.now() > 30_000,
          'scheduled by the RetryAfterError, not the backoff',
        )

        // A cancel reaches the running handler through the lease heartbeat (LEASE_LOST cancelled).
        const slow = await alice.add({ queue: 'c-remote', type: 'slow' })
        await until(async () => (await alice.get(slow.id)).status === 'active', 'the slow job to start')
        await alice.cancel(slow.id)
        await until(() => remote.running === 0, 'the cancelled run to end')
        assert.equal((await alice.get(slow.id)).status, 'cancelled')

        // Close while a job runs: after the grace it is aborted and handed back by the deregistration.
        const held = await alice.add({ queue: 'c-remote', type: 'slow' })
        await until(async () => (await alice.get(held.id)).status === 'active', 'the held job to start')
        const idle = new RemoteWorker(worker, { queues: ['c-remote'], handlers: {} })
        await idle.close() // never started: nothing to do
        await remote.close()
        const back = await alice.get(held.id)
        assert.equal(back.status, 'waiting')
        assert.equal(back.attempts, 0, 'a release does not spend the attempt')
      } finally {
        await remote.close()
      }
    })
  })
}
