/**
 * The HTTP API end to end, against a real server on 127.0.0.1: every
 * resource's happy path, bad input of each kind, who may see and do what,
 * the live feed with resume, files, and the remote-worker protocol.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Docket } from '../../src/index.js'
import { type App, buildApp } from '../../src/server/app.js'
import { createKey } from '../../src/server/auth.js'
import { type Driver, freshTarget, type Target } from '../worker/harness.js'
import { readEvents } from './sse.js'

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies in tests are read field by field
type Json = Record<string, any>

export function apiSuite(driver: Driver): void {
  describe(`HTTP API [${driver}]`, () => {
    let target: Target
    let docket: Docket
    let app: App
    let base: string
    const keys: Record<'admin' | 'alice' | 'bob' | 'worker', string> = {
      admin: '',
      alice: '',
      bob: '',
      worker: '',
    }

    before(async () => {
      target = await freshTarget(driver)
      docket = await Docket.open(target.url)
      app = await buildApp({ docket, maxUploadBytes: 64 * 1024 })
      await app.listen({ host: '127.0.0.1', port: 0 })
      base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
      keys.admin = (await createKey(docket, 'root', 'admin')).key
      keys.alice = (await createKey(docket, 'alice', 'user')).key
      keys.bob = (await createKey(docket, 'bob', 'user')).key
      keys.worker = (await createKey(docket, 'gpu-box', 'worker')).key
    })
    after(async () => {
      await app.close()
      await docket.close()
      await target.cleanup()
    })

    const call = async (
      who: keyof typeof keys | null,
      method: string,
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) => {
      const h: Record<string, string> = { ...headers }
      if (who) h.authorization = `Bearer ${keys[who]}`
      if (body !== undefined && typeof body !== 'string') h['content-type'] = 'application/json'
      const response = await fetch(`${base}${path}`, {
        method,
        headers: h,
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      })
      const text = await response.text()
      assert.doesNotMatch(text, /\n\s+at .+:\d+/, `${method} ${path} leaked a stack trace`)
      return { status: response.status, body: (text ? JSON.parse(text) : null) as Json }
    }
    const expectError = async (
      status: number,
      code: string,
      who: keyof typeof keys | null,
      method: string,
      path: string,
      body?: unknown,
      headers?: Record<string, string>,
    ) => {
      const r = await call(who, method, path, body, headers)
      assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`)
      assert.equal(r.body.error.code, code, `${method} ${path}`)
      assert.equal(typeof r.body.error.message, 'string')
      return r.body.error
    }

    it('serves health, readiness, OpenAPI and the docs', async () => {
      assert.deepEqual((await call(null, 'GET', '/health')).body, { status: 'ok' })
      assert.equal((await call(null, 'GET', '/ready')).body.driver, driver)
      const spec = (await call(null, 'GET', '/api/v1/openapi.json')).body
      for (const path of [
        '/api/v1/jobs',
        '/api/v1/jobs/{id}',
        '/api/v1/queues/{name}',
        '/api/v1/batches',
        '/api/v1/workers/{id}/claim',
        '/api/v1/events',
        '/api/v1/stats',
        '/api/v1/artifacts/{id}',
      ]) {
        assert.ok(spec.paths[path], `OpenAPI lacks ${path}`)
      }
      assert.ok(spec.components.schemas.Job && spec.components.schemas.Error)
      assert.equal((await fetch(`${base}/docs`)).status, 200)
    })

    it('manages queues, and refuses bad queue input without changing anything', async () => {
      assert.equal(
        (await call('admin', 'POST', '/api/v1/queues', { name: 'docs', concurrency: 2 })).status,
        201,
      )
      await expectError(409, 'CONFLICT', 'admin', 'POST', '/api/v1/queues', { name: 'docs' })
      const bad = await expectError(400, 'INVALID_ARGUMENT', 'admin', 'POST', '/api/v1/queues', {
        name: 'x',
        concurrency: 'lots',
        colour: 1,
      })
      assert.deepEqual(bad.details.issues.map((i: Json) => i.path).sort(), ['body', 'body.concurrency'])
      await expectError(404, 'NOT_FOUND', 'admin', 'GET', '/api/v1/queues/x')
      assert.equal(
        (await call('admin', 'PATCH', '/api/v1/queues/docs', { mode: 'manual' })).body.mode,
        'manual',
      )
      assert.equal((await call('admin', 'POST', '/api/v1/queues/docs/pause')).body.status, 'paused')
      assert.equal((await call('admin', 'POST', '/api/v1/queues/docs/resume')).body.status, 'active')
      await call('admin', 'PATCH', '/api/v1/queues/docs', { mode: 'automatic' })
      const listed = (await call('alice', 'GET', '/api/v1/queues')).body.queues
      assert.ok(listed.some((q: Json) => q.name === 'docs' && q.counts))
      await call('admin', 'POST', '/api/v1/queues', { name: 'scratch' })
      await call('admin', 'POST', '/api/v1/jobs', { queue: 'scratch', type: 't' })
      await expectError(409, 'CONFLICT', 'admin', 'DELETE', '/api/v1/queues/scratch')
      assert.equal((await call('admin', 'DELETE', '/api/v1/queues/scratch?force=true')).status, 200)
    })

    it('creates, lists, pages, steers and deletes jobs', async () => {
      const created = await call('alice', 'POST', '/api/v1/jobs', {
        queue: 'docs',
        type: 'analyse',
        payload: { n: 1 },
        priority: 'high',
      })
      assert.equal(created.status, 201)
      assert.equal(created.body.owner, 'alice')
      const bulk = await call('admin', 'POST', '/api/v1/jobs/bulk', {
        jobs: Array.from({ length: 5 }, (_, i) => ({
          queue: 'docs',
          type: 'bulk',
          payload: { i },
          owner: 'alice',
        })),
      })
      assert.equal(bulk.body.jobs.length, 5)
      const seen = new Set<string>()
      let cursor: string | null = null
      do {
        const page: Json = (
          await call(
            'alice',
            'GET',
            `/api/v1/jobs?queue=docs&limit=2&sort=createdAt&order=asc${cursor ? `&cursor=${cursor}` : ''}`,
          )
        ).body
        for (const j of page.jobs) seen.add(j.id)
        cursor = page.nextCursor
      } while (cursor)
      assert.equal(seen.size, 6)
      assert.equal(
        (await call('admin', 'GET', '/api/v1/jobs?status=waiting,active&type=bulk')).body.jobs.length,
        5,
      )
      const id = created.body.id
      const detail = (await call('alice', 'GET', `/api/v1/jobs/${id}`)).body
      assert.equal(detail.events[0].kind, 'added')
      assert.deepEqual(detail.dependencies, { upstream: [], downstream: [] })
      assert.equal(
        (await call('alice', 'PATCH', `/api/v1/jobs/${id}`, { priority: 'urgent' })).body.priority,
        100,
      )
      assert.equal((await call('alice', 'POST', `/api/v1/jobs/${id}/cancel`)).body.status, 'cancelled')
      await expectError(409, 'INVALID_STATE', 'alice', 'POST', `/api/v1/jobs/${id}/cancel`)
      assert.equal((await call('alice', 'POST', `/api/v1/jobs/${id}/retry`)).body.status, 'waiting')
      assert.equal((await call('alice', 'DELETE', `/api/v1/jobs/${id}`)).status, 200)
      await expectError(404, 'NOT_FOUND', 'alice', 'GET', `/api/v1/jobs/${id}`)
    })

    it('answers every kind of bad input with the error shape and changes nothing', async () => {
      const before = (await call('admin', 'GET', '/api/v1/queues/docs')).body.counts
      await expectError(400, 'INVALID_ARGUMENT', 'admin', 'POST', '/api/v1/jobs', { queue: 'docs' })
      await expectError(400, 'INVALID_ARGUMENT', 'admin', 'POST', '/api/v1/jobs', { queue: 'docs', type: 7 })
      await expectError(400, 'INVALID_ARGUMENT', 'admin', 'POST', '/api/v1/jobs', {
        queue: 'docs',
        type: 't',
        surprise: true,
      })
      await expectError(404, 'NOT_FOUND', 'admin', 'POST', '/api/v1/jobs', { queue: 'nowhere', type: 't' })
      await expectError(400, 'INVALID_ARGUMENT', 'admin', 'POST', '/api/v1/jobs', '{"queue": "docs",', {
        'content-type': 'application/json',
      })
      await expectError(415, 'UNSUPPORTED_MEDIA_TYPE', 'admin', 'POST', '/api/v1/jobs', 'queue=docs', {
        'content-type': 'text/csv',
      })
      await expectError(413, 'PAYLOAD_TOO_LARGE', 'admin', 'POST', '/api/v1/jobs', {
        queue: 'docs',
        type: 't',
        payload: 'x'.repeat(2 * 1024 * 1024),
      })
      await expectError(400, 'INVALID_ARGUMENT', 'admin', 'GET', '/api/v1/jobs?cursor=bm9wZQ')
      await expectError(400, 'INVALID_ARGUMENT', 'admin', 'GET', '/api/v1/jobs?sort=payload')
      await expectError(
        400,
        'INVALID_ARGUMENT',
        'admin',
        'GET',
        "/api/v1/jobs?status=waiting';DROP TABLE jobs;--",
      )
      await expectError(400, 'INVALID_ARGUMENT', 'admin', 'GET', '/api/v1/jobs/12345')
      await expectError(404, 'NOT_FOUND', 'admin', 'GET', '/api/v1/jobs/01a20000-0000-7000-8000-000000000000')
      await expectError(404, 'NOT_FOUND', 'admin', 'GET', '/api/v1/nothing-here')
      const owner = await call('admin', 'GET', `/api/v1/jobs?owner=${encodeURIComponent("x' OR '1'='1")}`)
      assert.deepEqual(owner.body.jobs, [])
      assert.deepEqual((await call('admin', 'GET', '/api/v1/queues/docs')).body.counts, before)
    })

    it('lets each role do only what it may, and hides other users’ jobs as missing', async () => {
      const job = (await call('alice', 'POST', '/api/v1/jobs', { queue: 'docs', type: 'private' })).body
      const batch = (
        await call('alice', 'POST', '/api/v1/batches', { name: 'b', jobs: [{ queue: 'docs', type: 'x' }] })
      ).body.batch
      await expectError(401, 'UNAUTHENTICATED', null, 'GET', '/api/v1/jobs')
      for (const path of [`/api/v1/jobs/${job.id}`, `/api/v1/batches/${batch.id}`])
        await expectError(404, 'NOT_FOUND', 'bob', 'GET', path)
      for (const action of ['cancel', 'retry', 'promote'])
        await expectError(404, 'NOT_FOUND', 'bob', 'POST', `/api/v1/jobs/${job.id}/${action}`)
      await expectError(404, 'NOT_FOUND', 'bob', 'DELETE', `/api/v1/jobs/${job.id}`)
      await expectError(404, 'NOT_FOUND', 'bob', 'POST', `/api/v1/batches/${batch.id}/cancel`)
      assert.ok(
        (await call('bob', 'GET', '/api/v1/jobs?limit=1000')).body.jobs.every((j: Json) => j.owner === 'bob'),
      )
      assert.deepEqual((await call('bob', 'GET', '/api/v1/jobs?owner=alice')).body.jobs, [])
      await expectError(403, 'FORBIDDEN', 'bob', 'POST', '/api/v1/jobs', {
        queue: 'docs',
        type: 't',
        owner: 'alice',
      })
      await expectError(403, 'FORBIDDEN', 'alice', 'POST', '/api/v1/queues', { name: 'mine' })
      await expectError(403, 'FORBIDDEN', 'alice', 'PATCH', '/api/v1/queues/docs', { concurrency: 1 })
      await expectError(403, 'FORBIDDEN', 'alice', 'GET', '/api/v1/workers')
      await expectError(403, 'FORBIDDEN', 'alice', 'GET', '/api/v1/stats')
      await expectError(403, 'FORBIDDEN', 'worker', 'GET', '/api/v1/queues')
      await expectError(403, 'FORBIDDEN', 'worker', 'POST', '/api/v1/jobs', { queue: 'docs', type: 't' })
      await expectError(403, 'FORBIDDEN', 'alice', 'POST', '/api/v1/workers/w/claim', { queues: ['docs'] })
      assert.equal((await call('admin', 'GET', `/api/v1/jobs/${job.id}`)).body.owner, 'alice')
      const revoked = await createKey(docket, 'carol', 'user')
      await docket.access.revokeApiKey(revoked.info.id)
      const r = await fetch(`${base}/api/v1/jobs`, { headers: { authorization: `Bearer ${revoked.key}` } })
      assert.equal(r.status, 401)
    })

    it('streams a job’s whole life in order over SSE, resumes after a disconnect, and shows users only their own', async () => {
      const id = (await call('alice', 'POST', '/api/v1/jobs', { queue: 'docs', type: 'live', priority: 100 }))
        .body.id
      const bobSees = readEvents(`${base}/api/v1/events?after=0`, keys.bob, 1500)
      await call('worker', 'POST', '/api/v1/workers', { id: 'w1', queues: ['docs'] })
      const [claimed] = (
        await call('worker', 'POST', '/api/v1/workers/w1/claim', { queues: ['docs'], limit: 1 })
      ).body.jobs
      assert.equal(claimed.id, id)
      const token = claimed.lease.token
      await call('worker', 'POST', `/api/v1/jobs/${id}/events`, { token, kind: 'step.started', step: 'ocr' })
      await call('worker', 'POST', `/api/v1/jobs/${id}/progress`, { token, percent: 50, message: 'half' })
      await call('worker', 'POST', `/api/v1/jobs/${id}/events`, {
        token,
        kind: 'step.completed',
        step: 'ocr',
        durationMs: 3,
      })
      await call('worker', 'POST', `/api/v1/jobs/${id}/complete`, { token, result: { ok: true } })
      const events = await readEvents(`${base}/api/v1/events?jobId=${id}&after=0`, keys.alice, 1500)
      assert.deepEqual(
        events.map((e) => e.kind),
        [
          'job.added',
          'job.started',
          'job.step.started',
          'job.progress',
          'job.step.completed',
          'job.completed',
        ],
      )
      const resumed = await readEvents(
        `${base}/api/v1/events?jobId=${id}`,
        keys.alice,
        1000,
        String(events[2]!.id),
      )
      assert.deepEqual(
        resumed.map((e) => e.id),
        events.slice(3).map((e) => e.id),
      )
      assert.ok((await bobSees).every((e) => e.jobId !== id))
    })

    it('takes input files with a job, output files under a lease, and refuses bad files', async () => {
      const upload = async (who: keyof typeof keys, blob: Blob, name: string) => {
        const form = new FormData()
        form.set('job', JSON.stringify({ queue: 'docs', type: 'file' }))
        form.set('file', blob, name)
        const r = await fetch(`${base}/api/v1/jobs/upload`, {
          method: 'POST',
          headers: { authorization: `Bearer ${keys[who]}` },
          body: form,
        })
        return { status: r.status, body: (await r.json()) as Json }
      }
      const ok = await upload('alice', new Blob(['hello'], { type: 'text/plain' }), '../../etc/passwd')
      assert.equal(ok.status, 201)
      assert.equal(ok.body.artifacts[0].name, 'passwd')
      assert.equal(
        ok.body.artifacts[0].sha256,
        '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
      )
      assert.equal(
        (await upload('alice', new Blob(['x'.repeat(100 * 1024)], { type: 'text/plain' }), 'big.txt')).status,
        413,
      )
      assert.equal(
        (await upload('alice', new Blob(['MZ'], { type: 'application/x-msdownload' }), 'a.exe')).status,
        415,
      )
      assert.equal(
        (await upload('alice', new Blob(['not a pdf'], { type: 'application/pdf' }), 'a.pdf')).status,
        415,
      )
      const artifact = ok.body.artifacts[0].id
      const download = await fetch(`${base}/api/v1/artifacts/${artifact}`, {
        headers: { authorization: `Bearer ${keys.alice}` },
      })
      assert.equal(await download.text(), 'hello')
      assert.match(download.headers.get('content-disposition') ?? '', /attachment; filename="passwd"/)
      await expectError(404, 'NOT_FOUND', 'bob', 'GET', `/api/v1/artifacts/${artifact}`)
    })

    it('serves remote workers: long-poll claims, heartbeats, failures, and fencing of lost leases', async () => {
      await call('admin', 'POST', '/api/v1/queues', {
        name: 'remote',
        backoff: { type: 'fixed', delayMs: 10 },
      })
      const reg = await call('worker', 'POST', '/api/v1/workers', {
        queues: ['remote'],
        kind: 'gpu',
        capabilities: ['gpu'],
      })
      const wid = reg.body.id
      const waiting = call('worker', 'POST', `/api/v1/workers/${wid}/claim`, {
        queues: ['remote'],
        capabilities: ['gpu'],
        waitMs: 5000,
        leaseMs: 1000,
      })
      await new Promise((r) => setTimeout(r, 200))
      const job = (
        await call('admin', 'POST', '/api/v1/jobs', { queue: 'remote', type: 'gpu', capabilities: ['gpu'] })
      ).body
      const claimed = (await waiting).body.jobs[0]
      assert.equal(claimed.id, job.id)
      const token = claimed.lease.token
      assert.equal((await call('worker', 'POST', `/api/v1/jobs/${job.id}/heartbeat`, { token })).status, 200)
      assert.equal(
        (await call('worker', 'POST', `/api/v1/workers/${wid}/heartbeat`, { load: 1 })).status,
        200,
      )
      const failed = await call('worker', 'POST', `/api/v1/jobs/${job.id}/fail`, {
        token,
        error: { message: 'GPU melted' },
      })
      assert.equal(failed.body.status, 'scheduled')
      await new Promise((r) => setTimeout(r, 50))
      const again = (
        await call('worker', 'POST', `/api/v1/workers/${wid}/claim`, {
          queues: ['remote'],
          capabilities: ['gpu'],
          leaseMs: 1000,
        })
      ).body.jobs[0]
      assert.equal(again.attempts, 2)
      await expectError(409, 'LEASE_LOST', 'worker', 'POST', `/api/v1/jobs/${job.id}/complete`, { token })
      await new Promise((r) => setTimeout(r, 1200))
      await docket.recoverExpiredLeases()
      for (const [path, body] of [
        ['complete', { token: again.lease.token }],
        ['progress', { token: again.lease.token, percent: 5 }],
        ['heartbeat', { token: again.lease.token }],
      ] as const) {
        await expectError(409, 'LEASE_LOST', 'worker', 'POST', `/api/v1/jobs/${job.id}/${path}`, body)
      }
      assert.equal((await call('admin', 'GET', `/api/v1/jobs/${job.id}`)).body.status, 'waiting')
      assert.equal((await call('worker', 'DELETE', `/api/v1/workers/${wid}`)).status, 200)
      const workers = (await call('admin', 'GET', '/api/v1/workers')).body.workers
      assert.equal(workers.find((w: Json) => w.id === wid).status, 'stopped')
    })
  })
}
