/**
 * Bad input of every kind, on every endpoint that takes input: each is
 * answered with the documented error shape and status (the client checks the
 * shape, the absence of stack traces and of 500s on every call), and none
 * changes anything.
 */
import assert from 'node:assert/strict'
import { before, beforeEach, describe, it } from 'node:test'
import type { ErrorCode } from '../../src/core/errors.js'
import { type Driver, type Json, json, type Server, UNKNOWN_ID, useServer, type Who } from './harness.js'

/** [status, code, who, method, path, body, the field path one issue must name] */
type Case = [number, ErrorCode, Who, string, string, unknown?, string?]

/** A 400 INVALID_ARGUMENT case of one endpoint: (body, the field path an issue must name). */
const invalid =
  (who: Who, method: string, path: string) =>
  (body: unknown, field: string): Case => [400, 'INVALID_ARGUMENT', who, method, path, body, field]

async function refuse(s: Server, cases: Case[]): Promise<void> {
  for (const [status, code, who, method, path, body, field] of cases) {
    const error = await s.fail(status, code, who, method, path, body)
    if (code !== 'INVALID_ARGUMENT' || field === undefined) continue
    const issues = error.details.issues as Json[]
    assert.ok(
      Array.isArray(issues) && issues.length > 0,
      `${method} ${path}: no issues in ${JSON.stringify(error)}`,
    )
    for (const i of issues) assert.ok(typeof i.path === 'string' && typeof i.message === 'string')
    assert.ok(
      issues.some((i) => i.path === field),
      `${method} ${path} ${JSON.stringify(body)}: expected an issue at ${field}, got ${JSON.stringify(issues)}`,
    )
  }
}

export function badInputSuite(driver: Driver): void {
  describe(`server: bad input [${driver}]`, () => {
    const s = useServer(driver)
    let job: Json
    let batch: Json
    let snapshot: Json
    before(async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'docs' })
      job = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'docs', type: 't', payload: { n: 1 } })
      batch = (await s.ok(201, 'alice', 'POST', '/api/v1/batches', { jobs: [{ queue: 'docs', type: 'b' }] }))
        .batch
      await s.ok(201, 'worker', 'POST', '/api/v1/workers', { id: 'w1', queues: ['docs'] })
    })
    beforeEach(async () => {
      snapshot = await s.snapshot()
    })
    const unchanged = async () =>
      assert.deepEqual(await s.snapshot(), snapshot, 'a refused call changed something')

    it('refuses wrong types, missing fields and unknown fields in queue, job and batch bodies', async () => {
      const queue = invalid('admin', 'POST', '/api/v1/queues')
      const patchQueue = invalid('admin', 'PATCH', '/api/v1/queues/docs')
      const add = invalid('alice', 'POST', '/api/v1/jobs')
      const bulk = invalid('alice', 'POST', '/api/v1/jobs/bulk')
      const patchJob = invalid('alice', 'PATCH', `/api/v1/jobs/${job.id}`)
      const addBatch = invalid('alice', 'POST', '/api/v1/batches')
      const ok = { queue: 'docs', type: 't' }
      await refuse(s, [
        queue({ name: 'q1', concurrency: 'lots' }, 'body.concurrency'),
        queue({ mode: 'manual' }, 'body.name'),
        queue({ name: 'q2', colour: 'red' }, 'body'),
        queue({ name: 'bad name!' }, 'body.name'),
        queue({ name: 7 }, 'body.name'),
        queue({ name: 'q3', backoff: { type: 'linear' } }, 'body.backoff.type'),
        patchQueue({ mode: 'sometimes' }, 'body.mode'),
        patchQueue({ concurrency: 0 }, 'body.concurrency'),
        patchQueue({ maxAttempts: 1.5 }, 'body.maxAttempts'),
        patchQueue({ name: 'renamed' }, 'body'),
        add({ queue: 'docs' }, 'body.type'),
        add({ type: 't' }, 'body.queue'),
        add({ queue: 'docs', type: 7 }, 'body.type'),
        add({ ...ok, surprise: true }, 'body'),
        add({ ...ok, type: 'x'.repeat(201) }, 'body.type'),
        add({ ...ok, priority: 900 }, 'body.priority'),
        add({ ...ok, priority: 'extreme' }, 'body.priority'),
        add({ ...ok, priority: 50.5 }, 'body.priority'),
        add({ ...ok, runAt: 'tomorrow' }, 'body.runAt'),
        add({ ...ok, runAt: Date.now(), delayMs: 5 }, 'body.delayMs'),
        add({ ...ok, maxAttempts: 0 }, 'body.maxAttempts'),
        add({ ...ok, capabilities: 'gpu' }, 'body.capabilities'),
        add({ ...ok, dependsOn: ['nope'] }, 'body.dependsOn.0'),
        add({ ...ok, payload: { s: 'a\u0000b' } }, 'body.payload.s'),
        add([ok], 'body'),
        [404, 'NOT_FOUND', 'alice', 'POST', '/api/v1/jobs', { queue: 'nowhere', type: 't' }],
        [404, 'NOT_FOUND', 'alice', 'POST', '/api/v1/jobs', { ...ok, dependsOn: [UNKNOWN_ID] }],
        bulk({ jobs: [] }, 'body.jobs'),
        bulk({ jobs: 'many' }, 'body.jobs'),
        bulk({}, 'body.jobs'),
        bulk({ jobs: [ok, { queue: 'docs' }] }, 'body.jobs.1.type'),
        bulk({ jobs: [ok], atomic: true }, 'body'),
        [
          404,
          'NOT_FOUND',
          'alice',
          'POST',
          '/api/v1/jobs/bulk',
          { jobs: [ok, { queue: 'nowhere', type: 't' }] },
        ],
        patchJob({}, 'body.priority'),
        patchJob({ priority: 101 }, 'body.priority'),
        patchJob({ priority: 1, status: 'completed' }, 'body'),
        addBatch({}, 'body.jobs'),
        addBatch({ jobs: [] }, 'body.jobs'),
        addBatch({ jobs: [{ queue: 'docs' }] }, 'body.jobs.0.type'),
        addBatch({ name: '', jobs: [ok] }, 'body.name'),
        addBatch({ jobs: [ok], colour: 1 }, 'body'),
      ])
      for (const body of ['"just a string"', 'null', '42'])
        await s.fail(400, 'INVALID_ARGUMENT', 'alice', 'POST', '/api/v1/jobs', body, json)
      await unchanged()
    })

    it('refuses bad remote-worker bodies', async () => {
      const register = invalid('worker', 'POST', '/api/v1/workers')
      const claim = invalid('worker', 'POST', '/api/v1/workers/w1/claim')
      const beat = invalid('worker', 'POST', '/api/v1/workers/w1/heartbeat')
      const report = (what: string) => invalid('worker', 'POST', `/api/v1/jobs/${job.id}/${what}`)
      await refuse(s, [
        register({}, 'body.queues'),
        register({ queues: [] }, 'body.queues'),
        register({ queues: ['docs'], concurrency: 0 }, 'body.concurrency'),
        register({ queues: ['docs'], pid: 1 }, 'body'),
        claim({ queues: ['docs'], waitMs: 60_000 }, 'body.waitMs'),
        claim({ queues: ['docs'], leaseMs: 10 }, 'body.leaseMs'),
        claim({ queues: ['docs'], limit: 0 }, 'body.limit'),
        claim({ queues: 'docs' }, 'body.queues'),
        claim({ queues: ['docs'], colour: 1 }, 'body'),
        beat({}, 'body.load'),
        beat({ load: -1 }, 'body.load'),
        report('complete')({}, 'body.token'),
        report('complete')({ token: 5 }, 'body.token'),
        report('fail')({ token: 'x' }, 'body.error'),
        report('fail')({ token: 'x', error: 'boom' }, 'body.error'),
        report('progress')({ token: 'x', percent: 101 }, 'body.percent'),
        report('progress')({ token: 'x', percent: 'half' }, 'body.percent'),
        report('events')({ token: 'x', kind: 'explode' }, 'body.kind'),
        report('heartbeat')({ token: 'x', leaseMs: 5 }, 'body.leaseMs'),
      ])
      await unchanged()
    })

    it('refuses a 2 MiB body (413), invalid JSON and an empty JSON body (400)', async () => {
      const huge = { queue: 'docs', type: 't', payload: 'x'.repeat(2 * 1024 * 1024) }
      await s.fail(413, 'PAYLOAD_TOO_LARGE', 'alice', 'POST', '/api/v1/jobs', huge)
      await s.fail(413, 'PAYLOAD_TOO_LARGE', 'alice', 'POST', '/api/v1/jobs/bulk', { jobs: [huge] })
      const result = { token: 'x', result: huge.payload }
      await s.fail(413, 'PAYLOAD_TOO_LARGE', 'worker', 'POST', `/api/v1/jobs/${job.id}/complete`, result)
      await s.fail(400, 'INVALID_ARGUMENT', 'alice', 'POST', '/api/v1/jobs', '{"queue": "docs",', json)
      await s.fail(400, 'INVALID_ARGUMENT', 'alice', 'POST', '/api/v1/jobs', "{'queue': 'docs'}", json)
      await s.fail(400, 'INVALID_ARGUMENT', 'alice', 'POST', '/api/v1/jobs', '', json)
      await s.fail(400, 'INVALID_ARGUMENT', 'alice', 'POST', '/api/v1/jobs')
      await unchanged()
    })

    it('refuses a body of a content type other than JSON with 415', async () => {
      const body = JSON.stringify({ queue: 'docs', type: 't' })
      for (const type of ['text/csv', 'application/x-www-form-urlencoded', 'application/xml', 'text/plain']) {
        const headers = { 'content-type': type }
        await s.fail(415, 'UNSUPPORTED_MEDIA_TYPE', 'alice', 'POST', '/api/v1/jobs', body, headers)
      }
      await unchanged()
    })

    it('refuses bad cursors, unknown sort keys and other bad query strings', async () => {
      const page = await s.ok(200, 'admin', 'GET', '/api/v1/jobs?limit=1&sort=createdAt&order=desc')
      assert.ok(page.nextCursor, 'there are two jobs, so a first page of one has a cursor')
      const forged = Buffer.from(JSON.stringify(['createdAt', 'desc', 1, 'not-a-uuid'])).toString('base64url')
      const list = (query: string, field: string): Case =>
        invalid('admin', 'GET', `/api/v1/jobs?${query}`)(undefined, field)
      const drop = (query: string, field: string): Case =>
        invalid('admin', 'DELETE', `/api/v1/queues/docs?${query}`)(undefined, field)
      await refuse(s, [
        list('cursor=bm9wZQ', 'querystring.cursor'),
        list('cursor=%7B%7D%5B', 'querystring.cursor'),
        list(`cursor=${forged}`, 'querystring.cursor'),
        list(`cursor=${page.nextCursor}&sort=priority`, 'querystring.cursor'),
        list(`cursor=${page.nextCursor}&order=asc`, 'querystring.cursor'),
        list('sort=payload', 'querystring.sort'),
        list('sort=id', 'querystring.sort'),
        list('order=sideways', 'querystring.order'),
        list('limit=0', 'querystring.limit'),
        list('limit=1001', 'querystring.limit'),
        list('limit=lots', 'querystring.limit'),
        list('status=bogus', 'querystring.status'),
        list('status=waiting,,active', 'querystring.status'),
        list("status=waiting';DROP TABLE jobs;--", 'querystring.status'),
        list('colour=blue', 'querystring'),
        list('queue=bad%20name', 'querystring.queue'),
        drop('force=maybe', 'querystring.force'),
        drop('really=true', 'querystring'),
      ])
      const J = '/api/v1/jobs?'
      const injected = await s.ok(200, 'admin', 'GET', `${J}owner=${encodeURIComponent("x' OR '1'='1")}`)
      assert.deepEqual(injected.jobs, [])
      await unchanged()
    })

    it('answers unknown ids with 404, ids of the wrong form with 400, and unknown routes with 404', async () => {
      const J = '/api/v1/jobs'
      const B = '/api/v1/batches'
      const Q = '/api/v1/queues'
      const cases: Case[] = [[404, 'NOT_FOUND', 'admin', 'GET', `${J}/${UNKNOWN_ID}`]]
      for (const id of ['12345', 'not-a-uuid', `${UNKNOWN_ID}0`]) {
        cases.push([400, 'INVALID_ARGUMENT', 'admin', 'GET', `${J}/${id}`, undefined, 'params.id'])
        cases.push([400, 'INVALID_ARGUMENT', 'admin', 'PATCH', `${J}/${id}`, { priority: 1 }, 'params.id'])
        cases.push([400, 'INVALID_ARGUMENT', 'admin', 'DELETE', `${J}/${id}`, undefined, 'params.id'])
        cases.push([400, 'INVALID_ARGUMENT', 'admin', 'GET', `${B}/${id}`, undefined, 'params.id'])
        for (const action of ['cancel', 'retry', 'promote'])
          cases.push([
            400,
            'INVALID_ARGUMENT',
            'admin',
            'POST',
            `${J}/${id}/${action}`,
            undefined,
            'params.id',
          ])
        for (const action of ['cancel', 'retry'])
          cases.push([
            400,
            'INVALID_ARGUMENT',
            'admin',
            'POST',
            `${B}/${id}/${action}`,
            undefined,
            'params.id',
          ])
        cases.push([
          400,
          'INVALID_ARGUMENT',
          'worker',
          'POST',
          `${J}/${id}/complete`,
          { token: 't' },
          'params.id',
        ])
      }
      cases.push(
        [404, 'NOT_FOUND', 'admin', 'PATCH', `${J}/${UNKNOWN_ID}`, { priority: 1 }],
        [404, 'NOT_FOUND', 'admin', 'DELETE', `${J}/${UNKNOWN_ID}`],
        [404, 'NOT_FOUND', 'admin', 'POST', `${J}/${UNKNOWN_ID}/cancel`],
        [404, 'NOT_FOUND', 'admin', 'POST', `${J}/${UNKNOWN_ID}/retry`],
        [404, 'NOT_FOUND', 'admin', 'POST', `${J}/${UNKNOWN_ID}/promote`],
        [404, 'NOT_FOUND', 'admin', 'GET', `${B}/${UNKNOWN_ID}`],
        [404, 'NOT_FOUND', 'admin', 'POST', `${B}/${UNKNOWN_ID}/cancel`],
        [404, 'NOT_FOUND', 'admin', 'POST', `${B}/${UNKNOWN_ID}/retry`],
        [404, 'NOT_FOUND', 'admin', 'GET', `${Q}/nope`],
        [404, 'NOT_FOUND', 'admin', 'PATCH', `${Q}/nope`, { concurrency: 1 }],
        [404, 'NOT_FOUND', 'admin', 'DELETE', `${Q}/nope`],
        [404, 'NOT_FOUND', 'admin', 'POST', `${Q}/nope/pause`],
        [404, 'NOT_FOUND', 'admin', 'POST', `${Q}/nope/resume`],
        [404, 'NOT_FOUND', 'admin', 'POST', `${Q}/nope/promote`],
        [400, 'INVALID_ARGUMENT', 'admin', 'GET', `${Q}/bad%20name!`],
        [404, 'NOT_FOUND', 'worker', 'POST', '/api/v1/workers/no-such-worker/heartbeat', { load: 0 }],
        [404, 'NOT_FOUND', 'worker', 'DELETE', '/api/v1/workers/no-such-worker'],
        [404, 'NOT_FOUND', 'worker', 'POST', '/api/v1/workers/no-such-worker/claim', { queues: ['docs'] }],
        // A lease call on a job that does not exist: LEASE_LOST, reason deleted (as for a token it never had).
        [409, 'LEASE_LOST', 'worker', 'POST', `${J}/${UNKNOWN_ID}/complete`, { token: 't' }],
        [409, 'LEASE_LOST', 'worker', 'POST', `${J}/${UNKNOWN_ID}/heartbeat`, { token: 't' }],
        [409, 'LEASE_LOST', 'worker', 'POST', `${J}/${UNKNOWN_ID}/release`, { token: 't' }],
        [404, 'NOT_FOUND', 'admin', 'GET', '/api/v1/nothing-here'],
        [404, 'NOT_FOUND', 'admin', 'POST', `${J}/${job.id}/explode`],
        [404, 'NOT_FOUND', 'admin', 'PUT', `${J}/${job.id}`, { priority: 1 }],
        [404, 'NOT_FOUND', null, 'GET', '/api/v2/jobs'],
        [404, 'NOT_FOUND', null, 'GET', '/nothing/at/all'],
      )
      await refuse(s, cases)
      const missing = await s.fail(404, 'NOT_FOUND', 'admin', 'GET', `${J}/${UNKNOWN_ID}`)
      assert.deepEqual(missing.details, { resource: 'job', id: UNKNOWN_ID })
      const upper = await s.ok(200, 'admin', 'GET', `${J}/${job.id.toUpperCase()}`)
      assert.equal(upper.id, job.id)
      assert.equal((await s.ok(200, 'alice', 'GET', `${B}/${batch.id}`)).id, batch.id)
      await unchanged()
    })
  })
}
