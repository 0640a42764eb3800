/**
 * Trust boundaries over HTTP (issue 11, items 1-4 and 13-15): a dedupe key
 * and a job id reach only the caller's own jobs, on every route that creates
 * jobs; a dependency on someone else's job is a 404 like a missing one; a
 * worker key reads a job's files only with its lease token; a worker id is
 * usable only by the key that registered it, while it is up, within what it
 * registered; a leased job can be handed back; LEASE_LOST says why.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { before, describe, it } from 'node:test'
import { createKey } from '../../src/server/auth.js'
import { type Driver, type Json, type Server, UNKNOWN_ID, useServer } from './harness.js'

/** The error with the id in it replaced, to compare answers about two different ids. */
const masked = (error: Json, id: string) => JSON.parse(JSON.stringify(error).replaceAll(id, '<id>')) as Json

/** Posts a job with input files as multipart, as `key`. */
async function upload(s: Server, key: string, job: Json, text = 'file') {
  const form = new FormData()
  form.set('job', JSON.stringify(job))
  form.set('file', new Blob([text], { type: 'text/plain' }), `${text}.txt`)
  const r = await fetch(`${s.base}/api/v1/jobs/upload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}` },
    body: form,
  })
  return { status: r.status, text: await r.text() }
}

export function boundariesSuite(driver: Driver): void {
  describe(`server: trust boundaries [${driver}]`, () => {
    const s = useServer(driver)
    const SECRET = `password-${randomUUID()}`
    let alices: Json
    before(async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'acq' })
      alices = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', {
        queue: 'acq',
        type: 'report',
        dedupeKey: 'deck-2026-q3',
        payload: { password: SECRET },
      })
    })

    it('never hands a dedupe key’s job to another user: /jobs, /jobs/bulk, /batches, /jobs/upload', async () => {
      const key = { queue: 'acq', type: 'report', dedupeKey: 'deck-2026-q3' }
      const made: Json[] = [
        await s.ok(201, 'bob', 'POST', '/api/v1/jobs', { ...key, payload: { mine: 1 } }),
        (await s.ok(201, 'bob', 'POST', '/api/v1/jobs/bulk', { jobs: [{ ...key, payload: { mine: 2 } }] }))
          .jobs[0],
        (await s.ok(201, 'bob', 'POST', '/api/v1/batches', { jobs: [{ ...key, payload: { mine: 3 } }] }))
          .jobs[0],
      ]
      const uploaded = await upload(s, s.keys.bob, { ...key, payload: { mine: 4 } })
      assert.equal(uploaded.status, 201, uploaded.text)
      assert.ok(!uploaded.text.includes(SECRET), 'the upload answered with alice’s job')
      made.push(JSON.parse(uploaded.text).job)
      for (const job of made) {
        assert.notEqual(job.id, alices.id)
        assert.equal(job.owner, 'bob')
        assert.ok(!JSON.stringify(job).includes(SECRET))
      }
      // Bob's own key deduplicates among his jobs: all four are one job.
      assert.equal(new Set(made.map((j) => j.id)).size, 1)
      assert.deepEqual(made[0]!.payload, { mine: 1 })
      // And alice's still finds hers.
      assert.equal((await s.ok(201, 'alice', 'POST', '/api/v1/jobs', key)).id, alices.id)
    })

    it('answers a user giving someone else’s job id exactly as for a fresh id (ids a user gives are scoped)', async () => {
      const fresh = randomUUID()
      const theirs = await s.ok(201, 'bob', 'POST', '/api/v1/jobs', {
        id: alices.id,
        queue: 'acq',
        type: 't',
      })
      const mine = await s.ok(201, 'bob', 'POST', '/api/v1/jobs', { id: fresh, queue: 'acq', type: 't' })
      for (const job of [theirs, mine]) {
        assert.equal(job.owner, 'bob')
        assert.equal(job.status, 'waiting')
      }
      assert.ok(theirs.id !== alices.id && mine.id !== fresh, 'a user’s id is never used as given')
      assert.deepEqual((await s.ok(200, 'alice', 'GET', `/api/v1/jobs/${alices.id}`)).payload, {
        password: SECRET,
      })
      // Alice and bob giving the same id get two different jobs; each retry is a 409 about their own.
      const shared = randomUUID()
      const a = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { id: shared, queue: 'acq', type: 't' })
      const b = await s.ok(201, 'bob', 'POST', '/api/v1/jobs', { id: shared, queue: 'acq', type: 't' })
      assert.notEqual(a.id, b.id)
      const again = await s.fail(409, 'CONFLICT', 'bob', 'POST', '/api/v1/jobs', {
        id: shared,
        queue: 'acq',
        type: 't',
      })
      assert.equal(again.details.id, b.id)
      // The same on the other routes that create jobs.
      const another = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'acq', type: 't' })
      const viaBatch = await s.ok(201, 'bob', 'POST', '/api/v1/batches', {
        jobs: [{ id: another.id, queue: 'acq', type: 't' }],
      })
      assert.notEqual(viaBatch.jobs[0].id, another.id)
      const viaUpload = await upload(s, s.keys.bob, { id: randomUUID(), queue: 'acq', type: 't' })
      assert.equal(viaUpload.status, 201, viaUpload.text)
      // An admin's ids are used as given.
      const chosen = randomUUID()
      assert.equal(
        (await s.ok(201, 'admin', 'POST', '/api/v1/jobs', { id: chosen, queue: 'acq', type: 't' })).id,
        chosen,
      )
    })

    it('refuses a dependency on someone else’s job exactly as one on a missing job (404), on every route', async () => {
      const before = await s.snapshot()
      const probes: [string, (dep: string) => Json][] = [
        ['/api/v1/jobs', (dep) => ({ id: UNKNOWN_ID, queue: 'acq', type: 'probe', dependsOn: [dep] })],
        [
          '/api/v1/jobs/bulk',
          (dep) => ({ jobs: [{ id: UNKNOWN_ID, queue: 'acq', type: 'probe', dependsOn: [dep] }] }),
        ],
        [
          '/api/v1/batches',
          (dep) => ({ jobs: [{ id: UNKNOWN_ID, queue: 'acq', type: 'probe', dependsOn: [dep] }] }),
        ],
      ]
      const missing = randomUUID()
      for (const [path, body] of probes) {
        const theirs = await s.fail(404, 'NOT_FOUND', 'bob', 'POST', path, body(alices.id))
        const none = await s.fail(404, 'NOT_FOUND', 'bob', 'POST', path, body(missing))
        assert.deepEqual(masked(theirs, alices.id), masked(none, missing), path)
      }
      assert.deepEqual(await s.snapshot(), before, 'a refused dependency wrote nothing')
    })

    it('lets a worker key read a job’s files only with the job’s lease token', async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'acq-files' })
      const made = await upload(s, s.keys.alice, { queue: 'acq-files', type: 'doc' }, 'input-bytes')
      const { job, artifacts } = JSON.parse(made.text)
      const artifact = artifacts[0].id
      await s.ok(201, 'worker', 'POST', '/api/v1/workers', { id: 'w-files', queues: ['acq-files'] })
      const [leased] = (
        await s.ok(200, 'worker', 'POST', '/api/v1/workers/w-files/claim', { queues: ['acq-files'] })
      ).jobs
      assert.equal(leased.id, job.id)
      const token = leased.lease.token
      // Without the lease: answered as a job or file that does not exist.
      const attempts: Record<string, string>[] = [
        {},
        { 'x-lease-token': randomUUID() },
        { 'x-lease-token': 'x' },
      ]
      for (const headers of attempts) {
        const list = await s.fail(
          404,
          'NOT_FOUND',
          'worker',
          'GET',
          `/api/v1/jobs/${job.id}/artifacts`,
          undefined,
          headers,
        )
        const none = await s.fail(
          404,
          'NOT_FOUND',
          'worker',
          'GET',
          `/api/v1/jobs/${UNKNOWN_ID}/artifacts`,
          undefined,
          headers,
        )
        assert.deepEqual(masked(list, job.id), masked(none, UNKNOWN_ID))
        const file = await s.fail(
          404,
          'NOT_FOUND',
          'worker',
          'GET',
          `/api/v1/artifacts/${artifact}`,
          undefined,
          headers,
        )
        const noFile = await s.fail(
          404,
          'NOT_FOUND',
          'worker',
          'GET',
          `/api/v1/artifacts/${UNKNOWN_ID}`,
          undefined,
          headers,
        )
        assert.deepEqual(masked(file, artifact), masked(noFile, UNKNOWN_ID))
      }
      // Another job's lease does not open this job's files.
      await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'acq-files', type: 'other' })
      const [other] = (
        await s.ok(200, 'worker', 'POST', '/api/v1/workers/w-files/claim', { queues: ['acq-files'] })
      ).jobs
      await s.fail(
        404,
        'NOT_FOUND',
        'worker',
        'GET',
        `/api/v1/artifacts/${artifact}?token=${other.lease.token}`,
      )
      // With it, as a header or a query parameter.
      const listed = await s.ok(200, 'worker', 'GET', `/api/v1/jobs/${job.id}/artifacts`, undefined, {
        'x-lease-token': token,
      })
      assert.deepEqual(
        listed.artifacts.map((a: Json) => a.id),
        [artifact],
      )
      const download = await s.call('worker', 'GET', `/api/v1/artifacts/${artifact}?token=${token}`)
      assert.equal(download.status, 200)
      assert.equal(download.text, 'input-bytes')
      // Once the lease ends, the files close again.
      await s.ok(200, 'worker', 'POST', `/api/v1/jobs/${job.id}/complete`, { token })
      await s.fail(404, 'NOT_FOUND', 'worker', 'GET', `/api/v1/artifacts/${artifact}?token=${token}`)
      // Owners and admins read as before.
      assert.equal((await s.call('alice', 'GET', `/api/v1/artifacts/${artifact}`)).text, 'input-bytes')
      assert.equal((await s.ok(200, 'admin', 'GET', `/api/v1/jobs/${job.id}/artifacts`)).artifacts.length, 1)
    })

    it('keeps each worker id to the key that registered it: others get 404 exactly as for an unknown id', async () => {
      const other = await createKey(s.docket, 'cpu-box', 'worker')
      const as = { authorization: `Bearer ${other.key}` }
      await s.ok(201, 'worker', 'POST', '/api/v1/workers', { id: 'w-mine', queues: ['acq'] })
      const before = await s.snapshot()
      const probes: [string, string, Json?][] = [
        ['POST', '/api/v1/workers/:id/heartbeat', { load: 1 }],
        ['POST', '/api/v1/workers/:id/claim', { queues: ['acq'] }],
        ['DELETE', '/api/v1/workers/:id'],
      ]
      for (const [method, path, body] of probes) {
        const theirs = await s.fail(404, 'NOT_FOUND', null, method, path.replace(':id', 'w-mine'), body, as)
        const none = await s.fail(404, 'NOT_FOUND', null, method, path.replace(':id', 'w-never'), body, as)
        assert.deepEqual(masked(theirs, 'w-mine'), masked(none, 'w-never'), `${method} ${path}`)
        // The key that registered it never registered w-never either.
        await s.fail(404, 'NOT_FOUND', 'worker', method, path.replace(':id', 'w-never'), body)
      }
      await s.fail(409, 'CONFLICT', null, 'POST', '/api/v1/workers', { id: 'w-mine', queues: ['acq'] }, as)
      assert.deepEqual(await s.snapshot(), before, 'nothing the other key tried changed w-mine or a job')
      await s.ok(200, 'worker', 'POST', '/api/v1/workers/w-mine/heartbeat', { load: 0 })
      await s.ok(200, 'admin', 'POST', '/api/v1/workers/w-mine/heartbeat', { load: 0 })
    })

    it('makes the registry the truth: claims only within what was registered, and only while up', async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'acq-gpu' })
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'acq-else' })
      const gpuJob = await s.ok(201, 'admin', 'POST', '/api/v1/jobs', {
        queue: 'acq-gpu',
        type: 'g',
        capabilities: ['gpu'],
      })
      await s.ok(201, 'worker', 'POST', '/api/v1/workers', {
        id: 'w-cpu',
        queues: ['acq-gpu'],
        capabilities: [],
      })
      const claim = (body: Json) => s.call('worker', 'POST', '/api/v1/workers/w-cpu/claim', body)
      const wrongCaps = await claim({ queues: ['acq-gpu'], capabilities: ['gpu'] })
      assert.equal(wrongCaps.status, 400, wrongCaps.text)
      assert.deepEqual(
        wrongCaps.body.error.details.issues.map((i: Json) => i.path),
        ['body.capabilities.0'],
      )
      const wrongQueue = await claim({ queues: ['acq-else'] })
      assert.equal(wrongQueue.status, 400, wrongQueue.text)
      assert.deepEqual(
        wrongQueue.body.error.details.issues.map((i: Json) => i.path),
        ['body.queues.0'],
      )
      const noQueue = await claim({ queues: ['acq-nope'] })
      assert.equal(noQueue.status, 404)
      assert.deepEqual(noQueue.body.error.details, { resource: 'queue', id: 'acq-nope' })
      assert.deepEqual((await claim({ queues: ['acq-gpu'] })).body.jobs, [], 'no gpu job for a cpu worker')
      assert.equal((await s.ok(200, 'admin', 'GET', `/api/v1/jobs/${gpuJob.id}`)).status, 'waiting')
      // Registering again changes what it may claim; a claim without capabilities uses the registered ones.
      await s.ok(201, 'worker', 'POST', '/api/v1/workers', {
        id: 'w-cpu',
        queues: ['acq-gpu'],
        capabilities: ['gpu'],
      })
      const [got] = (await claim({ queues: ['acq-gpu'] })).body.jobs
      assert.equal(got.id, gpuJob.id)
      // A stopped worker must register again; deregistering handed its job back.
      const left = await s.ok(200, 'worker', 'DELETE', '/api/v1/workers/w-cpu')
      assert.deepEqual(left, { ok: true, released: 1 })
      const back = await s.ok(200, 'admin', 'GET', `/api/v1/jobs/${gpuJob.id}`)
      assert.equal(back.status, 'waiting')
      assert.equal(back.attempts, 0)
      await s.fail(404, 'NOT_FOUND', 'worker', 'POST', '/api/v1/workers/w-cpu/claim', { queues: ['acq-gpu'] })
      await s.fail(404, 'NOT_FOUND', 'worker', 'POST', '/api/v1/workers/w-cpu/heartbeat', { load: 0 })
      await s.fail(404, 'NOT_FOUND', 'worker', 'POST', '/api/v1/workers/never-registered/claim', {
        queues: ['acq-gpu'],
      })
      const lease = await s.fail(409, 'LEASE_LOST', 'worker', 'POST', `/api/v1/jobs/${got.id}/complete`, {
        token: got.lease.token,
      })
      assert.deepEqual(lease.details, { jobId: got.id, reason: 'released' })
    })

    it('takes a leased job back with POST /jobs/{id}/release, at the head of its queue, the attempt not spent', async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'acq-release', ordering: 'fifo' })
      const first = await s.ok(201, 'admin', 'POST', '/api/v1/jobs', { queue: 'acq-release', type: 'first' })
      const second = await s.ok(201, 'admin', 'POST', '/api/v1/jobs', {
        queue: 'acq-release',
        type: 'second',
      })
      await s.ok(201, 'worker', 'POST', '/api/v1/workers', { id: 'w-rel', queues: ['acq-release'] })
      const claim = async () =>
        (await s.ok(200, 'worker', 'POST', '/api/v1/workers/w-rel/claim', { queues: ['acq-release'] }))
          .jobs[0]
      const held = await claim()
      assert.equal(held.id, first.id)
      assert.deepEqual(
        await s.ok(200, 'worker', 'POST', `/api/v1/jobs/${held.id}/release`, { token: held.lease.token }),
        {
          ok: true,
        },
      )
      const job = await s.ok(200, 'admin', 'GET', `/api/v1/jobs/${held.id}`)
      assert.equal(job.status, 'waiting')
      assert.equal(job.attempts, 0)
      assert.equal(job.lease, null)
      const again = await claim()
      assert.equal(again.id, first.id, 'the released job comes first again, before the second')
      assert.equal(again.attempts, 1)
      // The old token is told why; so are a bad token and a job that does not exist.
      const late = await s.fail(409, 'LEASE_LOST', 'worker', 'POST', `/api/v1/jobs/${held.id}/release`, {
        token: held.lease.token,
      })
      assert.deepEqual(late.details, { jobId: held.id, reason: 'taken-over' })
      const bogus = await s.fail(409, 'LEASE_LOST', 'worker', 'POST', `/api/v1/jobs/${held.id}/release`, {
        token: randomUUID(),
      })
      const none = await s.fail(409, 'LEASE_LOST', 'worker', 'POST', `/api/v1/jobs/${UNKNOWN_ID}/release`, {
        token: randomUUID(),
      })
      assert.deepEqual(
        masked(bogus, held.id),
        masked(none, UNKNOWN_ID),
        'a token it never had reveals nothing',
      )
      assert.equal(none.details.reason, 'deleted')
      await s.fail(403, 'FORBIDDEN', 'alice', 'POST', `/api/v1/jobs/${again.id}/release`, {
        token: again.lease.token,
      })
      assert.equal(second.status, 'waiting')
    })

    it('says in LEASE_LOST details.reason whether the job was cancelled, completed or deleted', async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'acq-why' })
      await s.ok(201, 'worker', 'POST', '/api/v1/workers', { id: 'w-why', queues: ['acq-why'] })
      const take = async () => {
        const job = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'acq-why', type: 't' })
        const [leased] = (
          await s.ok(200, 'worker', 'POST', '/api/v1/workers/w-why/claim', { queues: ['acq-why'] })
        ).jobs
        assert.equal(leased.id, job.id)
        return leased as Json
      }
      const reason = async (job: Json, path = 'progress') =>
        (
          await s.fail(409, 'LEASE_LOST', 'worker', 'POST', `/api/v1/jobs/${job.id}/${path}`, {
            token: job.lease.token,
          })
        ).details.reason
      const cancelled = await take()
      await s.ok(200, 'alice', 'POST', `/api/v1/jobs/${cancelled.id}/cancel`)
      assert.equal(await reason(cancelled), 'cancelled')
      assert.equal(await reason(cancelled, 'heartbeat'), 'cancelled')
      await s.ok(200, 'alice', 'DELETE', `/api/v1/jobs/${cancelled.id}`)
      assert.equal(await reason(cancelled), 'deleted')
      const done = await take()
      await s.ok(200, 'worker', 'POST', `/api/v1/jobs/${done.id}/complete`, { token: done.lease.token })
      assert.equal(await reason(done, 'complete'), 'completed')
    })
  })
}
