/**
 * Viewer tokens: a job's owner mints a read-only, expiring token that opens
 * that one job's detail and live feed without a key, and nothing else.
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { type Driver, type Json, UNKNOWN_ID, useServer } from './harness.js'
import { SseStream } from './sse.js'

export function viewerSuite(driver: Driver): void {
  describe(`server: viewer tokens [${driver}]`, () => {
    const s = useServer(driver, { credentialRecheckMs: 100 })
    let mine: Json
    let other: Json
    let bobs: Json
    let minted: Json

    before(async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'docs' })
      mine = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', {
        queue: 'docs',
        type: 'analyse',
        payload: { page: 1 },
      })
      other = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'docs', type: 'analyse' })
      bobs = await s.ok(201, 'bob', 'POST', '/api/v1/jobs', { queue: 'docs', type: 'analyse' })
      minted = await s.ok(201, 'alice', 'POST', `/api/v1/jobs/${mine.id}/viewer-token`, { ttlMs: 600_000 })
    })

    it('mints a token for one’s own job, with its URLs and expiry', () => {
      assert.match(minted.token, /^dv_[A-Za-z0-9_-]{43}$/)
      assert.equal(minted.jobId, mine.id)
      const left = new Date(minted.expiresAt).getTime() - Date.now()
      assert.ok(left > 590_000 && left <= 601_000, `expires in ${left} ms`)
      assert.equal(minted.job, `/api/v1/jobs/${mine.id}/view?token=${minted.token}`)
      assert.equal(minted.events, `/api/v1/events?jobId=${mine.id}&token=${minted.token}`)
    })

    it('opens that job’s detail without a key, readable from any origin, as the narrow view', async () => {
      const r = await s.call(null, 'GET', minted.job)
      assert.equal(r.status, 200, r.text)
      assert.equal(r.headers.get('access-control-allow-origin'), '*')
      const owned = await s.ok(200, 'alice', 'GET', `/api/v1/jobs/${mine.id}`)
      assert.deepEqual(Object.keys(r.body).sort(), [
        'attempts',
        'createdAt',
        'durationMs',
        'estimatedDurationMs',
        'events',
        'finishedAt',
        'id',
        'maxAttempts',
        'progress',
        'queue',
        'runAt',
        'startedAt',
        'status',
        'type',
      ])
      for (const k of ['id', 'queue', 'type', 'status', 'progress', 'createdAt', 'runAt'])
        assert.deepEqual(r.body[k], owned[k], k)
      // Its owner sees the same view with a key.
      assert.deepEqual(await s.ok(200, 'alice', 'GET', `/api/v1/jobs/${mine.id}/view`), r.body)
    })

    it('shows a viewer no payload, result, owner, worker id, error, stack or log line, in the detail or the feed', async () => {
      const C = `CANARY-${Math.random().toString(36).slice(2)}`
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'canary' })
      const job = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', {
        queue: 'canary',
        type: 'analyse',
        maxAttempts: 3,
        payload: { password: `${C}-password`, apiKey: `${C}-apiKey`, token: `${C}-token` },
      })
      const token = (await s.ok(201, 'alice', 'POST', `/api/v1/jobs/${job.id}/viewer-token`)).token
      // A first attempt that fails with a stack, then one that logs, reports progress and completes.
      const worker = `w-${C}`
      const [first] = await s.docket.workers.claim({ workerId: worker, queues: ['canary'] })
      await s.docket.workers.log(first!, `${C}-log`, { secret: `${C}-log-data` })
      await s.docket.workers.fail(
        first!,
        { message: `${C}-error`, name: 'Boom', stack: `Error: ${C}-stack\n    at x (y.js:1:1)` },
        { retryInMs: 0 },
      )
      const [second] = await s.docket.workers.claim({ workerId: worker, queues: ['canary'] })
      await s.docket.workers.step(second!, 'ocr', 'started', { message: 'reading page 3' })
      await s.docket.workers.progress(second!, { percent: 25, step: 'ocr', message: 'page 3 of 12' })
      await s.docket.workers.log(second!, `${C}-log-2`)
      await s.docket.workers.complete(second!, { summary: `${C}-result` })
      const owned = await s.ok(200, 'alice', 'GET', `/api/v1/jobs/${job.id}`)
      assert.match(
        JSON.stringify(owned),
        new RegExp(`${C}-(password|result|stack|log)`),
        'the canaries are there',
      )

      const seen = await s.ok(200, null, 'GET', `/api/v1/jobs/${job.id}/view?token=${token}`)
      const text = JSON.stringify(seen)
      assert.ok(!text.includes(C), `the viewer saw a canary: ${text}`)
      for (const hidden of ['alice', worker, 'Boom']) assert.ok(!text.includes(hidden), hidden)
      assert.equal(seen.status, 'completed')
      assert.deepEqual(seen.progress, { percent: 100, step: 'ocr', message: 'page 3 of 12' })
      assert.ok(seen.events.some((e: Json) => e.kind === 'step.started' && e.message === 'reading page 3'))
      assert.ok(!seen.events.some((e: Json) => e.kind === 'log'))

      const feed = await SseStream.open(
        `${s.base}/api/v1/events?jobId=${job.id}&after=0&token=${token}`,
        null,
      )
      try {
        await feed.until((m) => m.some((e) => e.event === 'job.completed'), 5_000, 'the job’s completion')
        const streamed = JSON.stringify(feed.messages)
        assert.ok(!streamed.includes(C), `the viewer's feed sent a canary: ${streamed}`)
        assert.ok(!streamed.includes(worker), 'the viewer’s feed sent a worker id')
        assert.ok(!feed.kinds().includes('job.log'))
        assert.ok(feed.messages.some((e) => e.event === 'job.progress' && e.data.message === 'page 3 of 12'))
      } finally {
        await feed.close()
      }
    })

    it('another job, someone else’s, or a missing one is the same 404; any other route needs a key', async () => {
      const missing = await s.fail(404, 'NOT_FOUND', 'admin', 'GET', `/api/v1/jobs/${UNKNOWN_ID}/view`)
      for (const id of [other.id, bobs.id, UNKNOWN_ID]) {
        const e = await s.fail(404, 'NOT_FOUND', null, 'GET', `/api/v1/jobs/${id}/view?token=${minted.token}`)
        assert.deepEqual(e, {
          ...missing,
          message: missing.message.replace(UNKNOWN_ID, id),
          details: { ...missing.details, id },
        })
      }
      const t = `token=${minted.token}`
      // The full detail is not the token's to open: only the view is.
      await s.fail(401, 'UNAUTHENTICATED', null, 'GET', `/api/v1/jobs/${mine.id}?${t}`)
      await s.fail(401, 'UNAUTHENTICATED', null, 'GET', `/api/v1/jobs?${t}`)
      await s.fail(401, 'UNAUTHENTICATED', null, 'POST', `/api/v1/jobs/${mine.id}/cancel?${t}`)
      await s.fail(401, 'UNAUTHENTICATED', null, 'GET', `/api/v1/queues?${t}`)
      await s.fail(401, 'UNAUTHENTICATED', null, 'POST', `/api/v1/jobs/${mine.id}/viewer-token?${t}`, {})
      assert.equal(
        (await s.ok(200, 'admin', 'GET', `/api/v1/jobs/${mine.id}`)).status,
        'waiting',
        'nothing changed',
      )
    })

    it('streams only that job’s events, whatever the query asks for', async () => {
      const feed = await SseStream.open(`${s.base}${minted.events}`, null)
      const wide = await SseStream.open(`${s.base}/api/v1/events?token=${minted.token}`, null)
      try {
        assert.equal(feed.response.status, 200)
        assert.equal(feed.response.headers.get('access-control-allow-origin'), '*')
        await feed.comment('connected')
        await wide.comment('connected')
        await s.ok(200, 'alice', 'POST', `/api/v1/jobs/${other.id}/cancel`)
        await s.ok(200, 'alice', 'POST', `/api/v1/jobs/${mine.id}/cancel`)
        await feed.until((m) => m.some((e) => e.event === 'job.cancelled'), 5_000, 'the job’s cancel')
        await wide.until((m) => m.some((e) => e.event === 'job.cancelled'), 5_000, 'the job’s cancel')
        for (const stream of [feed, wide]) {
          assert.ok(stream.messages.length > 0)
          assert.ok(
            stream.messages.every((e) => e.data.jobId === mine.id),
            stream.kinds().join(','),
          )
        }
      } finally {
        await feed.close()
        await wide.close()
      }
      const asked = await s.call(null, 'GET', `/api/v1/events?jobId=${other.id}&token=${minted.token}`)
      assert.equal(asked.status, 404)
      assert.equal(asked.body.error.code, 'NOT_FOUND')
    })

    it('refuses a token that does not exist as a bad key is refused, and minting for what one cannot see', async () => {
      const e = await s.fail(
        401,
        'UNAUTHENTICATED',
        null,
        'GET',
        `/api/v1/jobs/${mine.id}/view?token=dv_${'x'.repeat(43)}`,
      )
      assert.match(e.message, /viewer token/)
      await s.fail(404, 'NOT_FOUND', 'bob', 'POST', `/api/v1/jobs/${mine.id}/viewer-token`, {})
      await s.fail(404, 'NOT_FOUND', 'alice', 'POST', `/api/v1/jobs/${UNKNOWN_ID}/viewer-token`, {})
      await s.fail(403, 'FORBIDDEN', 'worker', 'POST', `/api/v1/jobs/${mine.id}/viewer-token`, {})
      await s.fail(400, 'INVALID_ARGUMENT', 'alice', 'POST', `/api/v1/jobs/${mine.id}/viewer-token`, {
        ttlMs: 10,
      })
      await s.fail(400, 'INVALID_ARGUMENT', 'alice', 'POST', `/api/v1/jobs/${mine.id}/viewer-token`, {
        ttlMs: 30 * 24 * 3600_000,
      })
      await s.fail(400, 'INVALID_ARGUMENT', 'alice', 'POST', `/api/v1/jobs/${mine.id}/viewer-token`, {
        scope: 'all',
      })
      const admin = await s.ok(201, 'admin', 'POST', `/api/v1/jobs/${bobs.id}/viewer-token`)
      assert.equal((await s.call(null, 'GET', admin.job)).status, 200, 'an admin mints for any job')
    })

    it('the owner ends every token of a job: its detail is refused at once and its open feed closes', async () => {
      const job = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'docs', type: 'revocable' })
      const first = await s.ok(201, 'alice', 'POST', `/api/v1/jobs/${job.id}/viewer-token`)
      const second = await s.ok(201, 'alice', 'POST', `/api/v1/jobs/${job.id}/viewer-token`)
      const feed = await SseStream.open(`${s.base}${first.events}`, null)
      await feed.comment('connected')
      // Someone else's job, and a missing one, are the same 404; a worker key may not.
      await s.fail(404, 'NOT_FOUND', 'bob', 'DELETE', `/api/v1/jobs/${job.id}/viewer-tokens`)
      await s.fail(404, 'NOT_FOUND', 'alice', 'DELETE', `/api/v1/jobs/${UNKNOWN_ID}/viewer-tokens`)
      await s.fail(403, 'FORBIDDEN', 'worker', 'DELETE', `/api/v1/jobs/${job.id}/viewer-tokens`)
      assert.equal((await s.call(null, 'GET', first.job)).status, 200, 'refusals changed nothing')
      assert.deepEqual(await s.ok(200, 'alice', 'DELETE', `/api/v1/jobs/${job.id}/viewer-tokens`), {
        revoked: 2,
      })
      for (const t of [first, second]) await s.fail(401, 'UNAUTHENTICATED', null, 'GET', t.job)
      await feed.ended(5_000)
      assert.equal(feed.messages.at(-1)?.event, 'feed.closed')
      assert.deepEqual(await s.ok(200, 'admin', 'DELETE', `/api/v1/jobs/${job.id}/viewer-tokens`), {
        revoked: 0,
      })
      // Other jobs' tokens are untouched.
      assert.equal((await s.call(null, 'GET', minted.job)).status, 200)
    })
  })
}
