/**
 * Property-based fuzzing (fast-check) of every endpoint the OpenAPI document
 * lists, so a route added later is fuzzed too: path parameters, query
 * strings and bodies built from each route's own schema, mixed with wrong
 * types, SQL and path-traversal strings, unknown fields, broken JSON and
 * wrong content types, as each kind of caller, over real HTTP.
 *
 * Every answer must be below 500, in the error shape when it is an error,
 * with no stack trace and no API key in it; the server must stay up; and
 * afterwards the database must still be consistent (see invariants.ts).
 * Short: ~1,000 requests per driver; long: 10,000.
 */
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import type { OpenAPIV3 } from 'openapi-types'
import { assertErrorShape, type Json } from '../server/harness.js'
import { type FuzzRequest, type Op, type Pools, requestFor } from './fuzz-requests.js'
import { checkInvariants } from './invariants.js'
import { startServer, type TestServer } from './server.js'
import { DRIVERS, figure, openSql, pick, type Sql } from './support.js'

const RUNS = pick(1_000, 10_000)
const SEED = Number(process.env.DOCKET_FUZZ_SEED ?? Date.now() % 2 ** 31)
for (const driver of DRIVERS) {
  describe(`reliability: a NUL character in any string [${driver}]`, () => {
    it('is refused or stored, never a 500 (PostgreSQL cannot store it in text)', async () => {
      const s = await startServer(driver)
      try {
        await s.client.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'nul' })
        const probes: [string, string, unknown?][] = [
          ['DELETE', '/api/v1/workers/%00'],
          ['POST', '/api/v1/workers/%00/heartbeat', { load: 1 }],
          ['POST', '/api/v1/workers/%00/claim', { queues: ['nul'] }],
          ['POST', '/api/v1/workers', { id: 'w\u0000', queues: ['nul'] }],
          ['GET', '/api/v1/jobs?type=%00&owner=a%00'],
          ['POST', '/api/v1/jobs', { queue: 'nul', type: 't\u0000' }],
          ['POST', '/api/v1/jobs', { queue: 'nul', type: 't', owner: 'o\u0000' }],
          ['POST', '/api/v1/batches', { name: 'b\u0000', jobs: [{ queue: 'nul', type: 't' }] }],
        ]
        for (const [method, path, body] of probes) {
          const r = await s.client.call('admin', method, path, body)
          assert.ok(r.status < 500, `${method} ${path}: ${r.text}`)
          if (driver === 'postgres' && r.status === 400) assert.match(r.text, /NUL/)
        }
      } finally {
        await s.close()
      }
    })
  })
}

describe('reliability: a lone UTF-16 surrogate in any string', () => {
  it('gets the same answer on both drivers, never a 500, and JSON refuses it with its path', async () => {
    const S = '\\ud800'
    // [method, path, raw JSON body, as whom, the issue path a 400 must name]
    const probes: [string, string, string, 'admin' | 'alice' | 'worker', string?][] = [
      [
        'POST',
        '/api/v1/jobs',
        `{"queue":"sur","type":"t","payload":{"s":"${S}"}}`,
        'alice',
        'body.payload.s',
      ],
      [
        'POST',
        '/api/v1/jobs',
        `{"queue":"sur","type":"t","payload":{"${S}":1}}`,
        'alice',
        'body.payload.\ud800',
      ],
      ['POST', '/api/v1/jobs', `{"queue":"sur","type":"t","payload":["\\udfff"]}`, 'alice', 'body.payload.0'],
      ['POST', '/api/v1/jobs', `{"queue":"sur","type":"t${S}"}`, 'alice', 'body.type'],
      [
        'POST',
        '/api/v1/jobs',
        `{"queue":"sur","type":"t","capabilities":["g${S}"]}`,
        'alice',
        'body.capabilities.0',
      ],
      ['POST', '/api/v1/jobs', `{"queue":"sur","type":"t","owner":"o${S}"}`, 'admin', 'body.owner'],
      [
        'POST',
        '/api/v1/jobs/bulk',
        `{"jobs":[{"queue":"sur","type":"t","payload":"${S}"}]}`,
        'alice',
        'body.jobs.0.payload',
      ],
      [
        'POST',
        '/api/v1/batches',
        `{"jobs":[{"queue":"sur","type":"t","payload":"${S}"}]}`,
        'alice',
        'body.jobs.0.payload',
      ],
      ['POST', '/api/v1/queues', `{"name":"sur2","settings":{"k":"${S}"}}`, 'admin', 'body.settings.k'],
      ['POST', '/api/v1/jobs', `{"queue":"sur","type":"t","dedupeKey":"d${S}"}`, 'alice'],
      ['POST', '/api/v1/queues', `{"name":"sur3","description":"d${S}"}`, 'admin'],
      ['POST', '/api/v1/batches', `{"name":"b${S}","jobs":[{"queue":"sur","type":"t"}]}`, 'alice'],
      ['POST', '/api/v1/workers', `{"id":"w-sur","queues":["sur"],"capabilities":["c${S}"]}`, 'worker'],
    ]
    const answers: Record<string, string[]> = {}
    for (const driver of DRIVERS) {
      const s = await startServer(driver)
      try {
        await s.client.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'sur' })
        answers[driver] = []
        for (const [method, path, body, who, field] of probes) {
          const r = await s.client.call(who, method, path, body, { 'content-type': 'application/json' })
          const what = `${driver} ${method} ${path} ${body}: ${r.text.slice(0, 300)}`
          if (field !== undefined) {
            assert.equal(r.status, 400, what)
            assert.ok(
              (r.body.error.details.issues as Json[]).some((i) => i.path === field),
              `${what}: expected an issue at ${field}`,
            )
          }
          answers[driver].push(`${method} ${path} ${body} → ${r.status} ${r.body.error?.code ?? ''}`)
        }
      } finally {
        await s.close()
      }
    }
    assert.deepEqual(answers.postgres, answers.sqlite)
  })
})

describe('reliability: errors raised before routing', () => {
  it('answers an over-long path parameter and a malformed URL with 400 in the error shape', async () => {
    const s = await startServer('sqlite')
    try {
      for (const path of [
        `/api/v1/jobs/${'x'.repeat(101)}`,
        '/api/v1/jobs/%ED%A0%80',
        '/api/v1/queues/%E0%A4%A',
      ]) {
        const r = await s.client.call('admin', 'GET', path)
        assert.equal(r.status, 400, `${path}: ${r.text}`)
        assert.equal(r.body.error.code, 'INVALID_ARGUMENT')
      }
    } finally {
      await s.close()
    }
  })
})

for (const driver of DRIVERS) {
  describe(`reliability: fuzzing every endpoint [${driver}]`, () => {
    let log = ''
    const capture = new Writable({
      write(chunk, _encoding, done) {
        if (log.length < 50_000_000) log += chunk.toString()
        done()
      },
    })
    let s: TestServer
    let sql: Sql
    let pools: Pools
    before(async () => {
      s = await startServer(driver, { logger: { level: 'trace', stream: capture } })
      sql = await openSql(s.url)
    })
    after(async () => {
      await sql?.close()
      await s?.close()
    })

    it(`${RUNS} random requests: no 5xx, the server stays up, the database stays consistent`, async () => {
      // Something to point at: jobs of two users, a batch, a leased job, an artifact, a worker.
      for (const name of ['fz', 'fz-manual'])
        await s.client.ok(201, 'admin', 'POST', '/api/v1/queues', {
          name,
          mode: name === 'fz' ? 'automatic' : 'manual',
        })
      const alice = await s.client.ok(201, 'alice', 'POST', '/api/v1/jobs', {
        queue: 'fz',
        type: 't',
        payload: { a: 1 },
      })
      const bob = await s.client.ok(201, 'bob', 'POST', '/api/v1/jobs', { queue: 'fz-manual', type: 't' })
      const batch = (
        await s.client.ok(201, 'alice', 'POST', '/api/v1/batches', { jobs: [{ queue: 'fz', type: 'b' }] })
      ).batch
      await s.client.ok(201, 'worker', 'POST', '/api/v1/workers', { id: 'fz-worker', queues: ['fz'] })
      const leased = (
        await s.client.ok(200, 'worker', 'POST', '/api/v1/workers/fz-worker/claim', {
          queues: ['fz'],
          limit: 1,
        })
      ).jobs[0]
      const { artifacts } = await s.docket.addWithFiles({ queue: 'fz', type: 'file', owner: 'alice' }, [
        { name: 'in.txt', mediaType: 'text/plain', data: Buffer.from('hello') },
      ])
      pools = {
        ids: [alice.id, bob.id, batch.id, leased.id, artifacts[0]!.id, 'fz-worker'],
        names: ['fz', 'fz-manual', 'nope'],
        tokens: [leased.lease.token, '00000000-0000-0000-0000-000000000000'],
      }

      const spec = s.app.swagger() as OpenAPIV3.Document
      const ops: Op[] = Object.entries(spec.paths).flatMap(([path, item]) =>
        Object.entries(item as Record<string, OpenAPIV3.OperationObject>)
          .filter(([m]) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
          .map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
      )
      assert.ok(ops.length >= 40, `the OpenAPI document lists only ${ops.length} operations`)
      const requests = fc.oneof(...ops.map((op) => requestFor(op, spec, pools)))

      // Signing in with a wrong key counts against the failed-authentication limit: those go to spare servers.
      let spare = await s.spare()
      let spareUses = 0
      const statuses = new Map<number, number>()
      const covered = new Set<string>()
      let sent = 0

      const operations = new Map(ops.map((o) => [`${o.method} ${o.path}`, o]))
      const send = async (req: FuzzRequest) => {
        const op = operations.get(req.op)!
        const signIn = op.path === '/api/v1/session'
        if (signIn && ++spareUses % 15 === 0) {
          await spare.close()
          spare = await s.spare()
        }
        const base = signIn ? spare.base : s.base
        const qs = req.query.length ? `?${new URLSearchParams(req.query).toString()}` : ''
        const headers: Record<string, string> = { authorization: `Bearer ${s.keys[req.who]}` }
        let body: BodyInit | undefined
        if (req.body.kind === 'json') {
          let value = req.body.value
          // A long-poll claim may wait up to 30 s; keep it short so the run stays bounded.
          if (value && typeof value === 'object' && 'waitMs' in value && typeof value.waitMs === 'number')
            value = { ...value, waitMs: Math.min(Math.abs(value.waitMs), 200) }
          headers['content-type'] = 'application/json'
          body = JSON.stringify(value) ?? 'null'
        } else if (req.body.kind === 'raw') {
          headers['content-type'] = req.body.type
          body = req.body.value
        } else if (req.body.kind === 'form') {
          const form = new FormData()
          for (const [k, v] of req.body.fields) form.append(k, v)
          for (const [name, type, text] of req.body.files)
            form.append('file', new Blob([text], { type }), name)
          body = form
        }
        const controller = new AbortController()
        const timer = setTimeout(() => controller.abort(), 15_000)
        try {
          const response = await fetch(`${base}${req.path}${qs}`, {
            method: op.method,
            headers,
            body: op.method === 'GET' ? undefined : body,
            signal: controller.signal,
          })
          const streaming = (response.headers.get('content-type') ?? '').includes('event-stream')
          const text = streaming ? '' : await response.text()
          if (streaming) controller.abort()
          sent++
          covered.add(req.op)
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
          const what = `${op.method} ${req.path.slice(0, 200)}${qs.slice(0, 200)} as ${req.who} → ${response.status}: ${text.slice(0, 300)}`
          assert.ok(response.status < 500, what)
          assert.doesNotMatch(text, /\n\s+at \S+ \(.*:\d+:\d+\)/, `${what}: a stack trace`)
          for (const key of Object.values(s.keys)) assert.ok(!text.includes(key), `${what}: an API key`)
          if (response.status >= 400 && (response.headers.get('content-type') ?? '').includes('json'))
            assertErrorShape(JSON.parse(text) as Json, response.status, what)
        } finally {
          clearTimeout(timer)
        }
      }

      const t0 = Date.now()
      await fc.assert(fc.asyncProperty(requests, send), { numRuns: RUNS, seed: SEED, verbose: 1 })
      const seconds = (Date.now() - t0) / 1000
      await spare.close()

      // Still up, still working end to end.
      assert.deepEqual(await s.client.ok(200, null, 'GET', '/health'), { status: 'ok' })
      assert.equal((await s.client.ok(200, null, 'GET', '/ready')).status, 'ready')
      await s.client.call('admin', 'POST', '/api/v1/queues', { name: 'after-fuzz' })
      const job = await s.client.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'after-fuzz', type: 't' })
      await s.client.ok(201, 'worker', 'POST', '/api/v1/workers', { id: 'after', queues: ['after-fuzz'] })
      const claimed = (
        await s.client.ok(200, 'worker', 'POST', '/api/v1/workers/after/claim', { queues: ['after-fuzz'] })
      ).jobs[0]
      assert.equal(claimed.id, job.id)
      await s.client.ok(200, 'worker', 'POST', `/api/v1/jobs/${job.id}/complete`, {
        token: claimed.lease.token,
      })

      const violations = await checkInvariants(s.docket, sql)
      const leakedInLog = Object.values(s.keys).filter((key) => log.includes(key)).length
      const fiveHundreds = [...statuses].filter(([code]) => code >= 500).reduce((n, [, c]) => n + c, 0)
      figure('fuzz', {
        driver,
        requests: sent,
        operations: covered.size,
        of: ops.length,
        seed: SEED,
        rps: sent / seconds,
        fiveHundreds,
        invariantViolations: violations.length,
        keysInLog: leakedInLog,
        statuses: [...statuses]
          .sort((a, b) => a[0] - b[0])
          .map(([c, n]) => `${c}:${n}`)
          .join(','),
      })
      assert.deepEqual(violations, [])
      assert.equal(leakedInLog, 0, 'an API key appeared in the server log')
      assert.ok(covered.size >= ops.length * 0.9, `only ${covered.size} of ${ops.length} operations were hit`)
    })
  })
}
