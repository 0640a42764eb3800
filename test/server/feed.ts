/**
 * The live feed as Server-Sent Events: a job's whole life arrives in order
 * while a remote worker runs it over HTTP; a client that reconnects with
 * Last-Event-ID (or ?after=) gets exactly what it missed; a user never hears
 * about another user's jobs.
 */
import assert from 'node:assert/strict'
import { afterEach, before, describe, it } from 'node:test'
import { createKey } from '../../src/server/auth.js'
import { type Driver, type Json, type Server, UNKNOWN_ID, useServer, type Who } from './harness.js'
import { assertWellFormed, type SseMessage, SseStream } from './sse.js'

const LIFECYCLE = [
  'job.added',
  'job.started',
  'job.step.started',
  'job.progress',
  'job.log',
  'job.step.completed',
  'job.step.started',
  'job.progress',
  'job.step.completed',
  'job.completed',
]

/** A worker claims the job; returns a function that reports on it with the lease token. */
async function claim(s: Server, jobId: string) {
  const [claimed] = (await s.ok(200, 'worker', 'POST', '/api/v1/workers/w-feed/claim', { queues: ['live'] }))
    .jobs
  assert.equal(claimed?.id, jobId)
  return (what: string, body: Json = {}) =>
    s.ok(200, 'worker', 'POST', `/api/v1/jobs/${jobId}/${what}`, { token: claimed.lease.token, ...body })
}

/** Runs the job through the lifecycle above. */
async function runLifecycle(s: Server, jobId: string): Promise<void> {
  const report = await claim(s, jobId)
  await report('events', { kind: 'step.started', step: 'ocr' })
  await report('progress', { percent: 30, step: 'ocr', message: 'reading' })
  await report('events', { kind: 'log', message: 'page 1 of 3', data: { page: 1 } })
  await report('events', { kind: 'step.completed', step: 'ocr', durationMs: 12 })
  await report('events', { kind: 'step.started', step: 'summary' })
  await report('progress', { percent: 90 })
  await report('events', { kind: 'step.completed', step: 'summary' })
  await report('complete', { result: { words: 1234 } })
}

const completed = (jobId: string) => (m: SseMessage[]) =>
  m.some((x) => x.data.jobId === jobId && x.event === 'job.completed')

export function feedSuite(driver: Driver): void {
  describe(`server: live feed over SSE [${driver}]`, () => {
    // Streams check their credential every 100 ms here (5 s by default).
    const s = useServer(driver, { credentialRecheckMs: 100 })
    const open: SseStream[] = []
    const stream = async (who: Who, query = '', headers: Record<string, string> = {}) => {
      const st = await SseStream.open(`${s.base}/api/v1/events${query}`, who && s.keys[who], headers)
      open.push(st)
      assert.equal(st.response.status, 200, `GET /api/v1/events${query}`)
      assert.match(st.response.headers.get('content-type') ?? '', /^text\/event-stream/)
      await st.comment('connected')
      return st
    }
    before(async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'live' })
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'other' })
      await s.ok(201, 'worker', 'POST', '/api/v1/workers', { id: 'w-feed', queues: ['live'] })
    })
    afterEach(async () => {
      for (const st of open.splice(0)) await st.close()
    })

    it('a stream whose key is revoked says so and closes; the key cannot reopen it', async () => {
      const { key, info } = await createKey(s.docket, 'dora', 'user')
      const st = await SseStream.open(`${s.base}/api/v1/events`, key)
      open.push(st)
      await st.comment('connected')
      const kept = await stream('alice')
      await s.ok(200, 'admin', 'DELETE', `/api/v1/keys/${info.id}`)
      await st.ended(5_000)
      assert.deepEqual(st.messages.at(-1)?.event, 'feed.closed')
      assert.equal(st.messages.at(-1)?.data.code, 'UNAUTHENTICATED')
      // Reconnecting with it is refused; another user's stream goes on.
      const again = await SseStream.open(`${s.base}/api/v1/events`, key)
      open.push(again)
      assert.equal(again.response.status, 401)
      const job = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'other', type: 'still-here' })
      await kept.until((m) => m.some((x) => x.data.jobId === job.id), 5_000, 'alice’s event')
    })

    it('streams a job’s whole lifecycle in order, as the remote worker reports it', async () => {
      const alice = await stream('alice')
      const admin = await stream('admin', '?queue=live')
      const job = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'live', type: 'analyse' })
      await s.ok(201, 'admin', 'POST', '/api/v1/jobs', { queue: 'other', type: 'elsewhere' })
      await runLifecycle(s, job.id)
      for (const st of [alice, admin]) {
        await st.until(completed(job.id), 5000, 'job.completed')
        assert.deepEqual(st.kinds(job.id), LIFECYCLE)
        assertWellFormed(st.messages)
      }
      assert.ok(
        admin.messages.every((m) => m.data.queue === 'live'),
        'a queue filter passes only that queue',
      )
      const events = alice.of(job.id).map((m) => m.data)
      assert.ok(events.every((e) => e.queue === 'live' && e.jobId === job.id))
      assert.deepEqual(
        events.filter((e) => e.kind === 'job.progress').map((e) => [e.percent, e.step, e.message]),
        [
          [30, 'ocr', 'reading'],
          [90, 'summary', null],
        ],
      )
      assert.deepEqual(
        events.filter((e) => e.kind.startsWith('job.step.')).map((e) => e.step),
        ['ocr', 'ocr', 'summary', 'summary'],
      )
      assert.equal(events.find((e) => e.kind === 'job.log')?.message, 'page 1 of 3')
      assert.equal(events.at(-1)?.status, 'completed')
      const detail = await s.ok(200, 'alice', 'GET', `/api/v1/jobs/${job.id}`)
      assert.deepEqual(
        detail.events.map((e: Json) => e.id),
        events.map((e) => e.id),
        'the feed and the job’s history are the same events',
      )
      assert.deepEqual(detail.result, { words: 1234 })
    })

    it('resumes after a disconnect with Last-Event-ID or ?after=, losing and repeating nothing', async () => {
      const job = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'live', type: 'resume' })
      const query = `?jobId=${job.id}`
      const first = await stream('alice', `${query}&after=0`)
      const report = await claim(s, job.id)
      await first.until((m) => m.some((x) => x.event === 'job.started'), 5000, 'job.started')
      // The client drops out mid-stream; the worker goes on reporting after it has gone
      // (reporting only after the close keeps the gap certain on a fast machine).
      for (let i = 1; i <= 3; i++) await report('progress', { percent: i * 5 })
      await first.until((m) => m.filter((x) => x.event === 'job.progress').length >= 3, 5000, '3 progress')
      await first.close()
      const seen = [...first.messages]
      const lastId = seen.at(-1)!.id!
      for (let i = 4; i <= 20; i++) await report('progress', { percent: i * 5 })
      await report('complete', { result: 'done' })

      const byHeader = await stream('alice', query, { 'last-event-id': lastId })
      const byQuery = await stream('alice', `${query}&after=${lastId}`)
      const everything = await stream('alice', `${query}&after=0`)
      for (const st of [byHeader, byQuery, everything])
        await st.until(completed(job.id), 5000, 'job.completed')
      await new Promise((r) => setTimeout(r, 300))
      const ids = (m: SseMessage[]) => m.map((x) => x.id)
      assert.deepEqual(everything.kinds(), [
        'job.added',
        'job.started',
        ...Array(20).fill('job.progress'),
        'job.completed',
      ])
      assert.deepEqual([...ids(seen), ...ids(byHeader.messages)], ids(everything.messages))
      assert.deepEqual(ids(byQuery.messages), ids(byHeader.messages))
      assert.ok(byHeader.messages.length > 0 && seen.length > 0)
      for (const st of [byHeader, byQuery, everything]) assertWellFormed(st.messages)

      // Resuming the unfiltered stream too: after the last event, nothing old comes back.
      const tail = await stream('alice', `?after=${everything.messages.at(-1)!.id}`)
      const next = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'live', type: 'next' })
      await tail.until((m) => m.some((x) => x.data.jobId === next.id), 5000, 'the next job')
      assert.deepEqual(tail.kinds(), ['job.added'])
      await s.ok(200, 'alice', 'POST', `/api/v1/jobs/${next.id}/cancel`)
    })

    it('never sends user B anything about user A’s jobs', async () => {
      const aliceJob = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'live', type: 'secret' })
      const bob = await stream('bob', '?after=0')
      const snoop = await stream('bob', `?jobId=${aliceJob.id}&after=0`)
      const nothing = await stream('bob', `?jobId=${UNKNOWN_ID}&after=0`)
      const alice = await stream('alice', `?jobId=${aliceJob.id}&after=0`)
      await runLifecycle(s, aliceJob.id)
      const bobJob = await s.ok(201, 'bob', 'POST', '/api/v1/jobs', { queue: 'live', type: 'mine' })
      await s.ok(200, 'bob', 'POST', `/api/v1/jobs/${bobJob.id}/cancel`)
      await alice.until(completed(aliceJob.id), 5000, 'alice’s job.completed')
      await bob.until(
        (m) => m.some((x) => x.data.jobId === bobJob.id && x.event === 'job.cancelled'),
        5000,
        'bob’s job',
      )
      await new Promise((r) => setTimeout(r, 400))

      const all = (await s.ok(200, 'admin', 'GET', '/api/v1/jobs?limit=1000')).jobs as Json[]
      const owner = new Map(all.map((j) => [j.id, j.owner]))
      assert.deepEqual(bob.kinds(), ['job.added', 'job.cancelled'], 'bob hears of his own job only')
      assert.ok(bob.messages.every((m) => owner.get(m.data.jobId) === 'bob'))
      assert.deepEqual(snoop.messages, [], 'naming alice’s job shows bob nothing')
      assert.deepEqual(nothing.messages, [])
      assert.deepEqual(alice.kinds(aliceJob.id), LIFECYCLE)
    })

    it('refuses the feed without a key, to a worker key, and with bad filters or a bad Last-Event-ID', async () => {
      await s.fail(401, 'UNAUTHENTICATED', null, 'GET', '/api/v1/events')
      await s.fail(401, 'UNAUTHENTICATED', 'revoked', 'GET', '/api/v1/events')
      await s.fail(403, 'FORBIDDEN', 'worker', 'GET', '/api/v1/events')
      for (const query of ['?after=-1', '?after=abc', '?jobId=nope', '?queue=bad%20name', '?colour=red'])
        await s.fail(400, 'INVALID_ARGUMENT', 'alice', 'GET', `/api/v1/events${query}`)
      await s.fail(400, 'INVALID_ARGUMENT', 'alice', 'GET', '/api/v1/events', undefined, {
        'last-event-id': 'abc',
      })
    })
  })
}
