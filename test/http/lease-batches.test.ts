/**
 * Bulk outcomes over HTTP, on both drivers: POST /jobs/complete and
 * POST /jobs/fail answer per item (done, or LEASE_LOST with its reason), a
 * claim may carry completions, and a malformed request (no token, 501 items,
 * an id twice, a result over the limit) is a 400 naming the item's index
 * that applies nothing, so that the valid items are still the worker's to send.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Docket } from '../../src/index.js'
import { type App, buildApp } from '../../src/server/app.js'
import { createKey } from '../../src/server/auth.js'
import { type Driver, freshTarget, type Target } from '../worker/harness.js'

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies in tests are read field by field
type Json = Record<string, any>

for (const driver of ['sqlite', 'postgres'] as Driver[]) {
  describe(`bulk completion and failure over HTTP [${driver}]`, () => {
    let target: Target
    let docket: Docket
    let app: App
    let base: string
    let key: string
    let queue = 0

    before(async () => {
      target = await freshTarget(driver)
      docket = await Docket.open(target.url, { maxPayloadBytes: 4096 })
      app = await buildApp({ docket })
      await app.listen({ host: '127.0.0.1', port: 0 })
      base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
      key = (await createKey(docket, 'gpu-box', 'worker')).key
    })
    after(async () => {
      await app.close()
      await docket.close()
      await target.cleanup()
    })

    const post = async (path: string, body: unknown, as = key) => {
      const response = await fetch(`${base}/api/v1${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${as}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      return { status: response.status, body: (await response.json()) as Json }
    }

    /** A fresh queue with `n` jobs, a worker registered for it, and those jobs claimed. */
    const claimed = async (n: number) => {
      const name = `q${++queue}`
      await docket.createQueue({ name })
      const added = await docket.addMany(
        Array.from({ length: n }, (_, i) => ({ queue: name, type: 't', payload: { i } })),
      )
      const worker = `w-${name}`
      assert.equal((await post('/workers', { id: worker, queues: [name] })).status, 201)
      const r = await post(`/workers/${worker}/claim`, { queues: [name], limit: 100 })
      assert.equal(r.status, 200)
      assert.equal(r.body.jobs.length, n)
      // In the order added, so that tests can name them.
      const byId = new Map(r.body.jobs.map((j: Json) => [j.id, j]))
      return { name, worker, jobs: added.map((a) => byId.get(a.id) as Json) }
    }
    const item = (job: Json, result?: unknown) => ({ id: job.id, token: job.lease.token, result })

    it('completes many leased jobs in one request, answering each: done or LEASE_LOST with its reason', async () => {
      const { jobs } = await claimed(4)
      await docket.cancelJob(jobs[2]!.id)
      const r = await post('/jobs/complete', {
        items: [
          item(jobs[0]!, { n: 0 }),
          item(jobs[1]!, { n: 1 }),
          item(jobs[2]!),
          { id: jobs[3]!.id, token: 'not-the-token' },
        ],
      })
      assert.equal(r.status, 200, JSON.stringify(r.body))
      assert.deepEqual(
        r.body.results.map((x: Json) => [x.id, x.ok, x.reason]),
        [
          [jobs[0]!.id, true, undefined],
          [jobs[1]!.id, true, undefined],
          [jobs[2]!.id, false, 'cancelled'],
          [jobs[3]!.id, false, 'deleted'],
        ],
      )
      assert.equal(r.body.results[2].code, 'LEASE_LOST')
      assert.match(r.body.results[2].message, /cancel/)
      assert.deepEqual((await docket.getJob(jobs[0]!.id)).result, { n: 0 })
      assert.equal((await docket.getJob(jobs[1]!.id)).status, 'completed')
      assert.equal((await docket.getJob(jobs[3]!.id)).status, 'active')
      // Sent again (a lost answer): each is LEASE_LOST `completed`, and nothing is doubled.
      const again = await post('/jobs/complete', { items: [item(jobs[0]!, { n: 'again' })] })
      assert.deepEqual(
        again.body.results.map((x: Json) => x.reason),
        ['completed'],
      )
      assert.deepEqual((await docket.getJob(jobs[0]!.id)).result, { n: 0 })
    })

    it('refuses a malformed request whole with a 400 naming the item, and applies none of it', async () => {
      const { jobs } = await claimed(3)
      const noToken = await post('/jobs/complete', { items: [item(jobs[0]!), { id: jobs[1]!.id }] })
      assert.equal(noToken.status, 400)
      assert.deepEqual(
        noToken.body.error.details.issues.map((i: Json) => i.path),
        ['body.items.1.token'],
      )
      const twice = await post('/jobs/complete', { items: [item(jobs[0]!), item(jobs[1]!), item(jobs[0]!)] })
      assert.equal(twice.status, 400)
      assert.deepEqual(
        twice.body.error.details.issues.map((i: Json) => i.path),
        ['body.items.2.id'],
      )
      assert.match(twice.body.error.message, /already item 0/)
      const tooBig = await post('/jobs/complete', {
        items: [item(jobs[0]!), item(jobs[1]!, 'x'.repeat(5000))],
      })
      assert.equal(tooBig.status, 400)
      assert.deepEqual(
        tooBig.body.error.details.issues.map((i: Json) => i.path),
        ['body.items.1.result'],
      )
      const many = Array.from({ length: 501 }, () => ({ id: crypto.randomUUID(), token: 't' }))
      const tooMany = await post('/jobs/complete', { items: many })
      assert.equal(tooMany.status, 400)
      assert.deepEqual(
        tooMany.body.error.details.issues.map((i: Json) => i.path),
        ['body.items'],
      )
      assert.equal((await post('/jobs/complete', { items: [] })).status, 400)
      // Nothing of those was applied: the valid items are still active, and complete now.
      for (const j of jobs) assert.equal((await docket.getJob(j.id)).status, 'active')
      const r = await post('/jobs/complete', { items: jobs.map((j) => item(j, 'done')) })
      assert.deepEqual(
        r.body.results.map((x: Json) => x.ok),
        [true, true, true],
      )
    })

    it('fails many leased jobs in one request: retried, failed for good, or LEASE_LOST', async () => {
      const { jobs } = await claimed(3)
      await post('/jobs/complete', { items: [item(jobs[2]!)] })
      const bad = await post('/jobs/fail', {
        items: [
          { ...item(jobs[0]!), error: { message: 'x' } },
          { ...item(jobs[1]!), error: { message: 'y' }, retryable: false, retryInMs: 1000 },
        ],
      })
      assert.equal(bad.status, 400)
      assert.deepEqual(
        bad.body.error.details.issues.map((i: Json) => i.path),
        ['body.items.1.retryInMs'],
      )
      assert.equal((await docket.getJob(jobs[0]!.id)).status, 'active')
      const r = await post('/jobs/fail', {
        items: [
          {
            id: jobs[0]!.id,
            token: jobs[0]!.lease.token,
            error: { message: 'busy upstream' },
            retryInMs: 60_000,
          },
          {
            id: jobs[1]!.id,
            token: jobs[1]!.lease.token,
            error: { message: 'bad input', name: 'Unrecoverable' },
            retryable: false,
          },
          { id: jobs[2]!.id, token: jobs[2]!.lease.token, error: { message: 'late' } },
        ],
      })
      assert.equal(r.status, 200, JSON.stringify(r.body))
      assert.deepEqual(
        r.body.results.map((x: Json) => [x.ok, x.job?.status ?? x.reason]),
        [
          [true, 'scheduled'],
          [true, 'failed'],
          [false, 'completed'],
        ],
      )
      assert.equal((await docket.getJob(jobs[1]!.id)).lastError?.message, 'bad input')
    })

    it('a claim carries completions: they are applied first, and the claim takes the next jobs', async () => {
      const { name, worker, jobs } = await claimed(2)
      const [next] = await docket.addMany([{ queue: name, type: 't', payload: { next: true } }])
      const r = await post(`/workers/${worker}/claim`, {
        queues: [name],
        limit: 5,
        complete: [item(jobs[0]!, { first: true }), { id: jobs[1]!.id, token: 'stale' }],
      })
      assert.equal(r.status, 200, JSON.stringify(r.body))
      assert.deepEqual(
        r.body.completed.map((x: Json) => [x.id, x.ok, x.reason]),
        [
          [jobs[0]!.id, true, undefined],
          [jobs[1]!.id, false, 'deleted'],
        ],
      )
      assert.deepEqual(
        r.body.jobs.map((j: Json) => j.id),
        [next!.id],
      )
      assert.deepEqual((await docket.getJob(jobs[0]!.id)).result, { first: true })
      // A claim without completions answers as before, with no `completed`.
      const plain = await post(`/workers/${worker}/claim`, { queues: [name] })
      assert.deepEqual(plain.body, { jobs: [] })
      // A malformed completion refuses the claim whole: nothing completed, nothing claimed.
      await docket.addMany([{ queue: name, type: 't' }])
      const refused = await post(`/workers/${worker}/claim`, {
        queues: [name],
        complete: [
          { id: jobs[1]!.id, token: jobs[1]!.lease.token },
          { id: jobs[1]!.id, token: jobs[1]!.lease.token },
        ],
      })
      assert.equal(refused.status, 400)
      assert.deepEqual(
        refused.body.error.details.issues.map((i: Json) => i.path),
        ['body.complete.1.id'],
      )
      assert.equal((await docket.getJob(jobs[1]!.id)).status, 'active')
      assert.equal((await docket.countJobs(name))[name]!.waiting, 1)
      // A claim refused for itself (a worker id not registered) still applies its completions.
      const unknown = await post('/workers/nobody/claim', { queues: [name], complete: [item(jobs[1]!, 'x')] })
      assert.equal(unknown.status, 404)
      assert.equal((await docket.getJob(jobs[1]!.id)).status, 'completed')
      const resent = await post('/jobs/complete', { items: [item(jobs[1]!, 'x')] })
      assert.deepEqual(
        resent.body.results.map((x: Json) => x.reason),
        ['completed'],
      )
    })

    it('another worker key holding the tokens is answered as for wrong tokens, and changes nothing', async () => {
      const { jobs } = await claimed(2)
      const other = (await createKey(docket, 'other-box', 'worker')).key
      const deleted = (job: Json) => ({ id: job.id, ok: false, code: 'LEASE_LOST', reason: 'deleted' })
      const done = await post('/jobs/complete', { items: [item(jobs[0]!, 1)] }, other)
      assert.equal(done.status, 200, JSON.stringify(done.body))
      assert.deepEqual(
        done.body.results.map(({ message: _, ...r }: Json) => r),
        [deleted(jobs[0]!)],
      )
      const failed = await post(
        '/jobs/fail',
        { items: [{ id: jobs[1]!.id, token: jobs[1]!.lease.token, error: { message: 'forged' } }] },
        other,
      )
      assert.deepEqual(
        failed.body.results.map(({ message: _, ...r }: Json) => r),
        [deleted(jobs[1]!)],
      )
      for (const job of jobs) assert.equal((await docket.getJob(job.id)).status, 'active')
      // The key that claimed them still can.
      const mine = await post('/jobs/complete', { items: jobs.map((j) => item(j, 2)) })
      assert.deepEqual(
        mine.body.results.map((r: Json) => r.ok),
        [true, true],
      )
    })

    it('lists the bulk routes and the claim’s completions in the OpenAPI document', async () => {
      const spec = (await (await fetch(`${base}/api/v1/openapi.json`)).json()) as Json
      assert.ok(spec.paths['/api/v1/jobs/complete'].post.requestBody)
      assert.ok(spec.paths['/api/v1/jobs/fail'].post.requestBody)
      const claim =
        spec.paths['/api/v1/workers/{id}/claim'].post.requestBody.content['application/json'].schema
      assert.ok(claim.properties.complete)
    })
  })
}
