/**
 * docs/remote-workers.md, step by step, through a client generated from the
 * served OpenAPI document only: openapi-fetch typed by the types
 * openapi-typescript writes from /api/v1/openapi.json. `docket-openapi` is
 * those generated types: test/http/contract.test.ts writes them and
 * type-checks this file against them (so it is left out of the repository's
 * own `tsc`, which has no such module), then runs it on both drivers. If a
 * step cannot be written here without a cast, the document is not enough.
 */
import assert from 'node:assert/strict'
import type { components, paths } from 'docket-openapi'
import createClient, { type Client } from 'openapi-fetch'

export type Api = Client<paths>
type ErrorBody = components['schemas']['Error']
type JobEvent = components['schemas']['JobEvent']
export type FeedEvent = components['schemas']['Event']

export const api = (baseUrl: string, key: string): Api =>
  createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${key}` } })

/** The `data` of a 2xx answer, or a failed assertion naming the error the server gave. */
function ok<T>(r: { data?: T; error?: unknown; response: Response }, what: string): T {
  assert.ok(r.response.ok && r.data !== undefined, `${what}: ${r.response.status} ${JSON.stringify(r.error)}`)
  return r.data
}

/** The error body of an answer expected to fail with `status` and `code`. */
function refused(r: { error?: ErrorBody; response: Response }, status: number, code: string): ErrorBody {
  assert.equal(r.response.status, status, JSON.stringify(r.error))
  assert.ok(r.error)
  assert.equal(r.error.error.code, code)
  return r.error
}

export interface FlowResult {
  workerId: string
  /** The jobs the flow ran: completed first time, failed then retried, released then completed. */
  jobs: { done: string; retried: string; released: string }
}

/**
 * Everything docs/remote-workers.md describes, in its order: an admin sets up
 * a queue, a worker key and jobs; the worker registers, long-polls a claim,
 * heartbeats, reports progress, steps and a log line, reads its job's files,
 * completes; fails a second job and runs it again; releases a third and
 * deregisters while holding it.
 */
export async function remoteWorkerFlow(baseUrl: string, adminKey: string): Promise<FlowResult> {
  const admin = api(baseUrl, adminKey)
  ok(await admin.POST('/api/v1/queues', { body: { name: 'documents' } }), 'create the queue')
  const key = ok(
    await admin.POST('/api/v1/keys', { body: { name: 'gpu-box', role: 'worker' } }),
    'mint a worker key',
  ).key
  const worker = api(baseUrl, key)

  // 1. Register.
  const { id: workerId } = ok(
    await worker.POST('/api/v1/workers', {
      body: { queues: ['documents'], kind: 'gpu', capabilities: ['gpu'], concurrency: 2, host: 'gpu-7' },
    }),
    'register',
  )
  const self = { params: { path: { id: workerId } } }

  // 2. Claim (long-poll): the claim waits; a job added meanwhile is handed to it.
  const claiming = worker.POST('/api/v1/workers/{id}/claim', {
    ...self,
    body: { queues: ['documents'], capabilities: ['gpu'], limit: 1, leaseMs: 30_000, waitMs: 10_000 },
  })
  await new Promise((r) => setTimeout(r, 200))
  const added = ok(
    await admin.POST('/api/v1/jobs', {
      body: { queue: 'documents', type: 'analyse', payload: { file: 'deck.pdf' }, capabilities: ['gpu'] },
    }),
    'add a job',
  )
  const [job] = ok(await claiming, 'claim').jobs
  assert.ok(job, 'the long-poll claim returns the job added while it waited')
  assert.equal(job.id, added.id)
  assert.equal(job.attempts, 1)
  assert.equal(job.lease.workerId, workerId)
  const lease = { params: { path: { id: job.id } } }
  const token = job.lease.token

  // 3. While the job runs.
  ok(await worker.POST('/api/v1/workers/{id}/heartbeat', { ...self, body: { load: 1 } }), 'worker heartbeat')
  ok(
    await worker.POST('/api/v1/jobs/{id}/heartbeat', { ...lease, body: { token, leaseMs: 30_000 } }),
    'extend',
  )
  ok(
    await worker.POST('/api/v1/jobs/{id}/events', {
      ...lease,
      body: { token, kind: 'step.started', step: 'ocr' },
    }),
    'step started',
  )
  ok(
    await worker.POST('/api/v1/jobs/{id}/progress', {
      ...lease,
      body: { token, percent: 30, step: 'ocr', message: 'page 3 of 10' },
    }),
    'progress',
  )
  ok(
    await worker.POST('/api/v1/jobs/{id}/events', {
      ...lease,
      body: { token, kind: 'log', message: 'found 2 tables', data: { tables: 2 } },
    }),
    'log',
  )
  ok(
    await worker.POST('/api/v1/jobs/{id}/events', {
      ...lease,
      body: { token, kind: 'step.completed', step: 'ocr', durationMs: 120 },
    }),
    'step completed',
  )
  const files = ok(
    await worker.GET('/api/v1/jobs/{id}/artifacts', { ...lease, headers: { 'x-lease-token': token } }),
    'the job’s files, with the lease',
  )
  assert.deepEqual(files.artifacts, [])
  refused(await worker.GET('/api/v1/jobs/{id}/artifacts', lease), 404, 'NOT_FOUND')

  // 4. Finish.
  ok(
    await worker.POST('/api/v1/jobs/{id}/complete', { ...lease, body: { token, result: { words: 1234 } } }),
    'complete',
  )
  const late = refused(
    await worker.POST('/api/v1/jobs/{id}/progress', { ...lease, body: { token, percent: 99 } }),
    409,
    'LEASE_LOST',
  )
  assert.equal(late.error.details.reason, 'completed')
  const done = ok(await admin.GET('/api/v1/jobs/{id}', lease), 'read the job back')
  assert.equal(done.status, 'completed')
  assert.deepEqual(done.result, { words: 1234 })
  assert.equal(done.progress.percent, 100)
  const kinds: JobEvent['kind'][] = done.events.map((e) => e.kind)
  assert.deepEqual(kinds, ['added', 'state', 'step.started', 'progress', 'log', 'step.completed', 'state'])

  // A job failed, retried after its backoff, and completed on its second attempt.
  const failing = ok(
    await admin.POST('/api/v1/jobs', {
      body: { queue: 'documents', type: 'analyse', maxAttempts: 3, backoff: { type: 'fixed', delayMs: 0 } },
    }),
    'add a job that fails once',
  )
  const first = await claimOne(worker, workerId)
  assert.equal(first.id, failing.id)
  const failed = ok(
    await worker.POST('/api/v1/jobs/{id}/fail', {
      params: { path: { id: first.id } },
      body: {
        token: first.lease.token,
        error: { message: 'GPU out of memory', name: 'OOM' },
        retryable: true,
      },
    }),
    'fail',
  )
  assert.equal(failed.status, 'scheduled')
  assert.equal(failed.lastError?.message, 'GPU out of memory')
  const second = await claimOne(worker, workerId)
  assert.equal(second.id, failing.id)
  assert.equal(second.attempts, 2)
  const stale = refused(
    await worker.POST('/api/v1/jobs/{id}/complete', {
      params: { path: { id: first.id } },
      body: { token: first.lease.token },
    }),
    409,
    'LEASE_LOST',
  )
  assert.equal(stale.error.details.reason, 'taken-over')
  ok(
    await worker.POST('/api/v1/jobs/{id}/complete', {
      params: { path: { id: second.id } },
      body: { token: second.lease.token, result: { retried: true } },
    }),
    'complete the retry',
  )

  // A job handed back with release: waiting again, the attempt not counted, claimed again.
  const handedBack = ok(
    await admin.POST('/api/v1/jobs', { body: { queue: 'documents', type: 'analyse' } }),
    'add',
  )
  const held = await claimOne(worker, workerId)
  assert.equal(held.id, handedBack.id)
  ok(
    await worker.POST('/api/v1/jobs/{id}/release', {
      params: { path: { id: held.id } },
      body: { token: held.lease.token },
    }),
    'release',
  )
  const waiting = ok(await admin.GET('/api/v1/jobs/{id}', { params: { path: { id: held.id } } }), 'read back')
  assert.equal(waiting.status, 'waiting')
  assert.equal(waiting.attempts, 0)
  const again = await claimOne(worker, workerId)
  assert.equal(again.id, held.id)
  assert.equal(again.attempts, 1)

  // 5. Leave: deregistering hands back what the worker still holds.
  const left = ok(await worker.DELETE('/api/v1/workers/{id}', self), 'deregister')
  assert.deepEqual(left, { ok: true, released: 1 })
  const gone = refused(
    await worker.POST('/api/v1/workers/{id}/heartbeat', { ...self, body: { load: 0 } }),
    404,
    'NOT_FOUND',
  )
  assert.deepEqual(gone.error.details, { resource: 'worker', id: workerId })
  const released = ok(
    await admin.GET('/api/v1/jobs/{id}', { params: { path: { id: again.id } } }),
    'read back',
  )
  assert.equal(released.status, 'waiting')
  ok(
    await worker.POST('/api/v1/workers', { body: { id: workerId, queues: ['documents'] } }),
    'register again',
  )
  const last = await claimOne(worker, workerId)
  ok(
    await worker.POST('/api/v1/jobs/{id}/complete', {
      params: { path: { id: last.id } },
      body: { token: last.lease.token },
    }),
    'complete the released job',
  )
  ok(await worker.DELETE('/api/v1/workers/{id}', self), 'deregister')
  return { workerId, jobs: { done: job.id, retried: failing.id, released: handedBack.id } }
}

/** Claims exactly one job (it must be there). */
async function claimOne(worker: Api, workerId: string) {
  const { jobs } = ok(
    await worker.POST('/api/v1/workers/{id}/claim', {
      params: { path: { id: workerId } },
      body: { queues: ['documents'], waitMs: 5_000 },
    }),
    'claim',
  )
  assert.equal(jobs.length, 1)
  return jobs[0]!
}

/**
 * "Lost workers" in docs/remote-workers.md: a worker that stops heartbeating
 * is marked lost by maintenance (`pass` runs one pass); its heartbeat and
 * claims 404, its lease runs out on its own and its reports then get
 * LEASE_LOST `expired`, lease
 * recovery puts its job back with the error the document names, the attempt
 * counted; registering again brings it back.
 */
export async function lostWorkerFlow(baseUrl: string, adminKey: string, pass: () => Promise<void>) {
  const admin = api(baseUrl, adminKey)
  ok(await admin.POST('/api/v1/queues', { body: { name: 'lost' } }), 'create the queue')
  const key = ok(await admin.POST('/api/v1/keys', { body: { name: 'flaky', role: 'worker' } }), 'key').key
  const worker = api(baseUrl, key)
  const { id: workerId } = ok(
    await worker.POST('/api/v1/workers', { body: { queues: ['lost'] } }),
    'register',
  )
  const self = { params: { path: { id: workerId } } }
  const added = ok(
    await admin.POST('/api/v1/jobs', { body: { queue: 'lost', type: 't', maxAttempts: 2 } }),
    'add',
  )
  const [job] = ok(
    await worker.POST('/api/v1/workers/{id}/claim', { ...self, body: { queues: ['lost'], leaseMs: 1000 } }),
    'claim',
  ).jobs
  assert.ok(job)
  assert.equal(job.id, added.id)
  const lease = { params: { path: { id: job.id } } }
  const token = job.lease.token

  await pass() // silent for longer than lostAfterMs: marked lost; its lease runs on
  const workers = ok(await admin.GET('/api/v1/workers'), 'list workers').workers
  assert.equal(workers.find((w) => w.id === workerId)?.status, 'lost')
  await new Promise((r) => setTimeout(r, 1_100)) // the lease runs out on its own
  const expired = refused(
    await worker.POST('/api/v1/jobs/{id}/heartbeat', { ...lease, body: { token } }),
    409,
    'LEASE_LOST',
  )
  assert.equal(expired.error.details.reason, 'expired')
  refused(
    await worker.POST('/api/v1/workers/{id}/heartbeat', { ...self, body: { load: 1 } }),
    404,
    'NOT_FOUND',
  )
  refused(
    await worker.POST('/api/v1/workers/{id}/claim', { ...self, body: { queues: ['lost'] } }),
    404,
    'NOT_FOUND',
  )

  await pass() // lease recovery: the job goes back to its queue, the attempt counted
  const back = ok(await admin.GET('/api/v1/jobs/{id}', lease), 'read back')
  assert.equal(back.status, 'waiting')
  assert.equal(back.attempts, 1)
  assert.equal(back.lastError?.message, `lease expired: worker ${workerId} stopped heartbeating`)

  ok(await worker.POST('/api/v1/workers', { body: { id: workerId, queues: ['lost'] } }), 'register again')
  const [retry] = ok(
    await worker.POST('/api/v1/workers/{id}/claim', { ...self, body: { queues: ['lost'] } }),
    'claim',
  ).jobs
  assert.ok(retry)
  assert.equal(retry.id, job.id)
  assert.equal(retry.attempts, 2)
  return { workerId, jobId: job.id }
}

/** Reads the SSE feed, through the generated client, until `until` holds of what came (or 10 s pass). */
export async function readFeed(base: string, key: string, until: (events: FeedEvent[]) => boolean) {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), 10_000)
  const events: FeedEvent[] = []
  try {
    const r = await api(base, key).GET('/api/v1/events', {
      params: { query: { after: 0 } },
      parseAs: 'stream',
      signal: controller.signal,
    })
    assert.equal(r.response.status, 200)
    assert.match(r.response.headers.get('content-type') ?? '', /^text\/event-stream/)
    let buffer = ''
    const decoder = new TextDecoder()
    for await (const chunk of r.data as ReadableStream<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true })
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const lines = buffer.slice(0, end).split('\n')
        buffer = buffer.slice(end + 2)
        const data = lines.find((l) => l.startsWith('data: '))
        if (!data) continue
        const event = JSON.parse(data.slice(6)) as FeedEvent
        assert.ok(lines.includes(`event: ${event.kind}`), 'the SSE event name is the event’s kind')
        events.push(event)
      }
      if (until(events)) break
    }
  } catch (error) {
    if ((error as Error).name !== 'AbortError') throw error
  } finally {
    clearTimeout(timer)
    controller.abort()
  }
  return events
}
