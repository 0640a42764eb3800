/**
 * Uploads at the trust boundary, on a real server of each driver:
 * - a malformed multipart body (no boundary, cut short, fields after files)
 *   and a lone UTF-16 surrogate in JSON are a 4xx naming the problem, the
 *   same on both drivers, with none of the payload in the log;
 * - files stream to storage as they arrive (a partial file grows while the
 *   request is still coming), limits per file and per request are enforced
 *   while streaming, and a refused 1 GiB body is answered long before its end;
 * - an upload that fails midway leaves no file and no job;
 * - names lose their bidi controls, and declared types are checked against
 *   the content.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { Writable } from 'node:stream'
import { before, beforeEach, describe, it } from 'node:test'
import { buildApp } from '../../src/server/app.js'
import { until } from '../worker/harness.js'
import { assertErrorShape, type Driver, type Json, useServer } from './harness.js'
import {
  closing,
  databaseError,
  field,
  file,
  MiB,
  multipartType,
  oneFile,
  partHead,
  send,
  storedFiles,
} from './multipart.js'
import { SAMPLES } from './samples.js'

export function uploadsSuite(driver: Driver): void {
  describe(`server: malformed uploads and unstorable JSON [${driver}]`, () => {
    let log = ''
    const stream = new Writable({
      write(chunk, _encoding, done) {
        log += chunk.toString()
        done()
      },
    })
    const s = useServer(driver, { logger: { level: 'info', stream } })
    let snapshot: Json
    let files: string[]
    const filesNow = () => storedFiles(s.docket.artifacts)
    before(async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'up' })
    })
    beforeEach(async () => {
      snapshot = await s.snapshot()
      files = await filesNow()
    })
    const unchanged = async () => {
      assert.deepEqual(await s.snapshot(), snapshot, 'a refused upload changed something')
      assert.deepEqual(await filesNow(), files, 'a refused upload left a file behind')
    }
    const post = async (body: Buffer, type = multipartType, path = '/api/v1/jobs/upload') => {
      const r = await s.call('alice', 'POST', path, body.toString('latin1'), { 'content-type': type })
      return r
    }

    it('answers a multipart body without a boundary with 400, naming the header', async () => {
      for (const type of [
        'multipart/form-data',
        'multipart/form-data; charset=utf-8',
        'multipart/form-data; boundary=',
      ]) {
        const r = await post(Buffer.concat([field('job', '{}'), closing]), type)
        assert.equal(r.status, 400, `${type}: ${r.text}`)
        assert.equal(r.body.error.code, 'INVALID_ARGUMENT')
        assert.match(r.body.error.message, /no boundary/)
        assert.deepEqual(
          r.body.error.details.issues.map((i: Json) => i.path),
          ['headers.content-type'],
        )
      }
      await unchanged()
    })

    it('answers a multipart body cut short with 400, wherever it is cut', async () => {
      const job = field('job', JSON.stringify({ queue: 'up', type: 't' }))
      const whole = Buffer.concat([job, file('a.txt', 'text/plain', Buffer.from('hello')), closing])
      for (const cut of [
        job.length - 5,
        job.length + 20,
        whole.length - closing.length - 3,
        whole.length - 4,
      ]) {
        const r = await post(whole.subarray(0, cut))
        assert.equal(r.status, 400, `cut at ${cut} of ${whole.length}: ${r.text}`)
        assert.equal(r.body.error.code, 'INVALID_ARGUMENT')
        assert.match(r.body.error.message, /malformed multipart\/form-data body/)
      }
      await unchanged()
    })

    it('refuses a field after a file, and a job field that is missing or not an object', async () => {
      const hello = file('a.txt', 'text/plain', Buffer.from('hello'))
      const after = await post(
        Buffer.concat([hello, field('job', JSON.stringify({ queue: 'up', type: 't' })), closing]),
      )
      assert.equal(after.status, 400)
      assert.match(after.body.error.message, /job/)
      const late = await post(
        Buffer.concat([
          field('job', JSON.stringify({ queue: 'up', type: 't' })),
          hello,
          field('x', '1'),
          closing,
        ]),
      )
      assert.equal(late.status, 400)
      assert.match(late.body.error.message, /comes after a file/)
      for (const job of ['[1]', 'not json', '"text"']) {
        const r = await post(Buffer.concat([field('job', job), hello, closing]))
        assert.equal(r.status, 400, r.text)
        assert.deepEqual(
          r.body.error.details.issues.map((i: Json) => i.path),
          ['body.job'],
        )
      }
      await unchanged()
    })

    it('refuses a lone surrogate in a payload, a result, log data and settings with 400 and its path, logging none of it', async () => {
      const secret = 'hunter2-do-not-log'
      const body = `{"queue":"up","type":"t","payload":{"secret":"${secret}","s":"\\ud800"}}`
      const add = await s.call('alice', 'POST', '/api/v1/jobs', body, { 'content-type': 'application/json' })
      assert.equal(add.status, 400, add.text)
      assert.equal(add.body.error.code, 'INVALID_ARGUMENT')
      assert.match(add.body.error.message, /lone UTF-16 surrogate/)
      assert.deepEqual(add.body.error.details.issues, [
        {
          path: 'body.payload.s',
          message:
            'contains a lone UTF-16 surrogate (\\ud800-\\udfff without its pair), which is not valid Unicode',
        },
      ])
      const key = await s.call(
        'alice',
        'POST',
        '/api/v1/jobs',
        `{"queue":"up","type":"t","payload":{"\\udc00":1}}`,
        {
          'content-type': 'application/json',
        },
      )
      assert.equal(key.status, 400, key.text)
      assert.deepEqual(
        key.body.error.details.issues.map((i: Json) => i.path),
        ['body.payload.\udc00'],
      )
      const bulk = await s.call(
        'alice',
        'POST',
        '/api/v1/jobs/bulk',
        `{"jobs":[{"queue":"up","type":"t"},{"queue":"up","type":"t","payload":["\\ud800"]}]}`,
        {
          'content-type': 'application/json',
        },
      )
      assert.equal(bulk.status, 400, bulk.text)
      assert.deepEqual(
        bulk.body.error.details.issues.map((i: Json) => i.path),
        ['body.jobs.1.payload.0'],
      )
      const upload = await post(
        Buffer.concat([field('job', body), file('a.txt', 'text/plain', Buffer.from('hi')), closing]),
      )
      assert.equal(upload.status, 400, upload.text)
      assert.deepEqual(
        upload.body.error.details.issues.map((i: Json) => i.path),
        ['body.job.payload.s'],
      )
      const settings = await s.call(
        'admin',
        'POST',
        '/api/v1/queues',
        '{"name":"sur","settings":{"a":"\\udfff"}}',
        {
          'content-type': 'application/json',
        },
      )
      assert.equal(settings.status, 400, settings.text)
      await unchanged()

      // A result and log data, from a worker holding a lease.
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'sur-work' })
      const job = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'sur-work', type: 't' })
      await s.ok(201, 'worker', 'POST', '/api/v1/workers', { id: 'w-sur', queues: ['sur-work'] })
      const [claimed] = (
        await s.ok(200, 'worker', 'POST', '/api/v1/workers/w-sur/claim', { queues: ['sur-work'] })
      ).jobs
      const token = claimed.lease.token
      const json = { 'content-type': 'application/json' }
      const result = await s.call(
        'worker',
        'POST',
        `/api/v1/jobs/${job.id}/complete`,
        `{"token":"${token}","result":{"r":"${secret}\\ud800"}}`,
        json,
      )
      assert.equal(result.status, 400, result.text)
      assert.deepEqual(
        result.body.error.details.issues.map((i: Json) => i.path),
        ['body.result.r'],
      )
      const logged = await s.call(
        'worker',
        'POST',
        `/api/v1/jobs/${job.id}/events`,
        `{"token":"${token}","kind":"log","message":"m","data":{"d":"\\ud800"}}`,
        json,
      )
      assert.equal(logged.status, 400, logged.text)
      assert.equal(
        (await s.ok(200, 'alice', 'GET', `/api/v1/jobs/${job.id}`)).status,
        'active',
        'the job is as it was',
      )
      assert.ok(!log.includes(secret), 'the payload reached the log')
      assert.doesNotMatch(log, /"level":50/, 'a refused request was logged as an error')
    })

    it('never logs the text of a database error, which may quote the request data', async () => {
      const secret = 'hunter2-in-a-database-error'
      const error = await databaseError(s.driver, secret)
      let appLog = ''
      const app = await buildApp({
        docket: s.docket,
        auth: 'none',
        logger: {
          level: 'info',
          stream: new Writable({
            write(chunk, _encoding, done) {
              appLog += chunk.toString()
              done()
            },
          }),
        },
      })
      // A route failing in the database, as a driver bug would, and a failure caused by one.
      app.get('/boom', async () => {
        throw error
      })
      app.get('/boom-wrapped', async () => {
        throw new Error('adding the job failed', { cause: error })
      })
      for (const url of ['/boom', '/boom-wrapped']) {
        const r = await app.inject({ url })
        assert.equal(r.statusCode, 500)
        assert.deepEqual(r.json().error.code, 'INTERNAL')
        assert.ok(!r.body.includes(secret))
      }
      await app.close()
      const errors = appLog.split('\n').filter((line) => line.includes('"level":50'))
      assert.equal(errors.length, 2, appLog)
      assert.ok(!appLog.includes(secret), `a database error's text reached the log: ${appLog}`)
      if (s.driver === 'postgres') {
        for (const line of errors) assert.match(line, /database error 22P02/)
        assert.match(errors[0]!, /"stack":"\s+at /, 'the stack keeps its frames')
      }
    })
  })

  describe(`server: streamed uploads and their limits [${driver}]`, () => {
    const s = useServer(driver, { maxUploadBytes: 4 * MiB, maxUploadRequestBytes: 10 * MiB })
    let snapshot: Json
    let files: string[]
    const filesNow = () => storedFiles(s.docket.artifacts)
    before(async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'up' })
    })
    beforeEach(async () => {
      snapshot = await s.snapshot()
      files = await filesNow()
    })
    const unchanged = async () => {
      // The server may still be cleaning up after a dropped request: wait for it, briefly.
      await until(
        async () => (await filesNow()).join() === files.join(),
        5000,
        'the refused upload’s files to go',
      ).catch(() => {})
      assert.deepEqual(await filesNow(), files, 'a refused upload left a file behind')
      assert.deepEqual(await s.snapshot(), snapshot, 'a refused upload changed something')
    }
    /** Files being written: on disk `*.partial` files, in the database unfinished blobs. */
    const partials = async () => (await s.docket.artifacts.list()).filter((f) => f.partial)

    it('streams a file to storage while it arrives, and stores exactly its bytes', async () => {
      const size = 3 * MiB + 123
      let grew = false
      const r = await send(s, '/api/v1/jobs/upload', () => oneFile(size), {
        pause: async (sent) => {
          // Halfway through the file, the server must already be writing it to storage.
          if (grew || sent < 2 * MiB) return
          await until(
            async () => (await partials()).some((f) => f.size >= MiB),
            5000,
            'a partial file growing',
          )
          grew = true
        },
      })
      assert.equal(r.status, 201, JSON.stringify(r.body))
      assert.ok(grew)
      const expected = createHash('sha256').update(Buffer.alloc(size, 'x')).digest('hex')
      assert.equal(r.body.artifacts[0].size, size)
      assert.equal(r.body.artifacts[0].sha256, expected)
      assert.deepEqual(await partials(), [])
    })

    it('answers a file over the limit with 413 long before a 1 GiB body ends, and keeps nothing', async () => {
      const r = await send(s, '/api/v1/jobs/upload', () => oneFile(1024 * MiB))
      assert.equal(r.status, 413)
      assert.equal(r.body.error.code, 'PAYLOAD_TOO_LARGE')
      assert.match(r.body.error.message, /larger than the limit of 4194304 bytes/)
      assert.ok(r.sent < 64 * MiB, `the client had sent ${r.sent} bytes`)
      await unchanged()
    })

    it('answers a request over the total with 413 at once when its Content-Length says so', async () => {
      const r = await send(s, '/api/v1/jobs/upload', () => oneFile(1024 * MiB), {
        headers: { 'content-length': String(1024 * MiB + 1000) },
      })
      assert.equal(r.status, 413)
      assert.match(r.body.error.message, /for all files of one request/)
      assert.ok(r.sent < 32 * MiB, `the client had sent ${r.sent} bytes`)
      await unchanged()
    })

    it('answers with 413 once the files of one request pass the total, while streaming', async () => {
      function* many() {
        yield field('job', JSON.stringify({ queue: 'up', type: 'many' }))
        for (let i = 0; i < 5; i++) yield file(`f${i}.txt`, 'text/plain', Buffer.alloc(3 * MiB, 'y'))
        yield closing
      }
      const r = await send(s, '/api/v1/jobs/upload', many)
      assert.equal(r.status, 413, JSON.stringify(r.body))
      assert.match(r.body.error.message, /limit of 10485760 bytes for all files of one request/)
      await unchanged()
    })

    it('keeps no file and no job when the client goes away midway', async () => {
      const jobs = snapshot.jobs.length
      await new Promise<void>((resolve) => {
        const req = httpRequest(`${s.base}/api/v1/jobs/upload`, {
          method: 'POST',
          headers: { authorization: `Bearer ${s.keys.alice}`, 'content-type': multipartType },
        })
        req.on('error', () => resolve())
        req.on('close', () => resolve())
        req.write(
          Buffer.concat([
            field('job', JSON.stringify({ queue: 'up', type: 'gone' })),
            file('one.txt', 'text/plain', Buffer.from('first')),
          ]),
        )
        req.write(
          Buffer.concat([
            partHead('file', { filename: 'two.txt', type: 'text/plain' }),
            Buffer.alloc(MiB, 'z'),
          ]),
        )
        until(async () => (await partials()).length > 0, 5000, 'the second file to be stored')
          .catch(() => {})
          .finally(() => req.destroy())
      })
      await until(async () => (await partials()).length === 0, 5000, 'the partial file to go')
      await unchanged()
      assert.equal((await s.snapshot()).jobs.length, jobs)
    })

    it('stores a worker’s output files all or none', async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'out' })
      const job = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'out', type: 't' })
      await s.ok(201, 'worker', 'POST', '/api/v1/workers', { id: 'w-out', queues: ['out'] })
      const [claimed] = (
        await s.ok(200, 'worker', 'POST', '/api/v1/workers/w-out/claim', { queues: ['out'] })
      ).jobs
      const path = `/api/v1/jobs/${job.id}/artifacts`
      const token = field('token', claimed.lease.token)
      const before = await filesNow()
      function* refused() {
        yield token
        yield file('ok.txt', 'text/plain', Buffer.from('fine'))
        yield file('bad.png', 'image/png', Buffer.from('not a png'))
        yield closing
      }
      const r = await send(s, path, refused, { who: 'worker' })
      assert.equal(r.status, 415, JSON.stringify(r.body))
      assert.deepEqual((await s.ok(200, 'alice', 'GET', `/api/v1/jobs/${job.id}/artifacts`)).artifacts, [])
      assert.deepEqual(await filesNow(), before)
      const over = await send(
        s,
        path,
        function* () {
          yield token
          yield file('ok.txt', 'text/plain', Buffer.from('fine'))
          for (const chunk of oneFile(64 * MiB))
            if (!chunk.toString('latin1', 0, 200).includes('name="job"')) yield chunk
        },
        { who: 'worker' },
      )
      assert.equal(over.status, 413, JSON.stringify(over.body))
      assert.deepEqual((await s.ok(200, 'alice', 'GET', `/api/v1/jobs/${job.id}/artifacts`)).artifacts, [])
      await until(async () => (await filesNow()).join() === before.join(), 5000, 'no output file')
      function* good() {
        yield token
        yield file('a.txt', 'text/plain', Buffer.from('a'))
        yield file('b.png', 'image/png', SAMPLES['image/png'])
        yield closing
      }
      const ok = await send(s, path, good, { who: 'worker' })
      assert.equal(ok.status, 201, JSON.stringify(ok.body))
      assert.deepEqual(
        ok.body.artifacts.map((a: Json) => a.name),
        ['a.txt', 'b.png'],
      )
    })
  })

  describe(`server: uploaded names and content [${driver}]`, () => {
    const s = useServer(driver)
    before(async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'up' })
    })
    const upload = async (name: string, type: string, bytes: Buffer) => {
      const form = new FormData()
      form.set('job', JSON.stringify({ queue: 'up', type: 'file' }))
      form.set('file', new Blob([new Uint8Array(bytes)], { type }), name)
      const r = await fetch(`${s.base}/api/v1/jobs/upload`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.keys.alice}` },
        body: form,
      })
      const body = (await r.json()) as Json
      if (r.status >= 400) assertErrorShape(body, r.status, `upload ${name}`)
      return { status: r.status, body }
    }

    it('documents the multipart bodies and the download in the OpenAPI document', async () => {
      const spec = await s.ok(200, null, 'GET', '/api/v1/openapi.json')
      const form = (path: string) =>
        spec.paths[path].post.requestBody.content['multipart/form-data'].schema.properties as Json
      assert.deepEqual(Object.keys(form('/api/v1/jobs/upload')), ['job', 'file'])
      assert.deepEqual(Object.keys(form('/api/v1/jobs/{id}/artifacts')), ['token', 'file'])
      assert.deepEqual(form('/api/v1/jobs/upload').file.items, { type: 'string', format: 'binary' })
      const download = spec.paths['/api/v1/artifacts/{id}'].get.responses['200']
      assert.deepEqual(download.content['application/octet-stream'].schema, {
        type: 'string',
        format: 'binary',
      })
    })

    it('strips bidi controls from file names, in the record and in Content-Disposition', async () => {
      const r = await upload('invoice\u202Efdp.exe', 'application/pdf', SAMPLES['application/pdf'])
      assert.equal(r.status, 201, JSON.stringify(r.body))
      const artifact = r.body.artifacts[0]
      assert.equal(artifact.name, 'invoicefdp.exe')
      const isolates = await upload('\u2067a\u2069\u200F.txt', 'text/plain', Buffer.from('x'))
      assert.equal(isolates.body.artifacts[0].name, 'a.txt')
      const download = await fetch(`${s.base}/api/v1/artifacts/${artifact.id}`, {
        headers: { authorization: `Bearer ${s.keys.alice}` },
      })
      assert.equal(download.status, 200)
      assert.doesNotMatch(decodeURIComponent(download.headers.get('content-disposition') ?? ''), /\u202E/)
      assert.deepEqual(Buffer.from(await download.arrayBuffer()), SAMPLES['application/pdf'])
    })

    it('takes each accepted type whose content matches, and refuses a mismatch with 415 and no job', async () => {
      for (const [type, bytes] of Object.entries(SAMPLES)) {
        const r = await upload(`ok.${type.split('/')[1]}`, type, bytes)
        assert.equal(r.status, 201, `${type}: ${JSON.stringify(r.body)}`)
      }
      const before = (await s.docket.countJobs()).up
      const mismatches: [string, Buffer][] = [
        ['image/png', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>')],
        ['image/jpeg', SAMPLES['image/png']],
        ['image/webp', SAMPLES['image/jpeg']],
        ['application/zip', Buffer.from('MZ\x90\x00')],
        ['application/pdf', Buffer.from('<html><script>alert(1)</script>')],
        ['text/plain', SAMPLES['image/png']],
        ['application/json', Buffer.from([0x7b, 0xff, 0x7d])],
      ]
      for (const [type, bytes] of mismatches) {
        const r = await upload('x', type, bytes)
        assert.equal(r.status, 415, `${type}: ${JSON.stringify(r.body)}`)
        assert.equal(r.body.error.code, 'UNSUPPORTED_MEDIA_TYPE')
        assert.match(r.body.error.message, new RegExp(`declared ${type.replace('/', '\\/')} but`))
      }
      assert.deepEqual((await s.docket.countJobs()).up, before)
    })
  })
}
