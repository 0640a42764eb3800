/**
 * One rule per bound (core/bounds.ts): the library, the worker protocol and
 * the HTTP API accept exactly the same lease lengths, worker ids, job ids,
 * queue names and durations, and refuse the others with the same message.
 * Each value at each edge goes through every entry point: a library call
 * (the options the Docket and the Worker take), a worker-protocol call
 * (`docket.workers`), and an HTTP request through Fastify's inject() on a
 * real SQLite file.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  DURATION_RULE,
  LEASE_RULE,
  MAX_DURATION_MS,
  MAX_LEASE_MS,
  MIN_LEASE_MS,
  QUEUE_NAME_RULE,
  WORKER_ID_RULE,
} from '../../src/core/bounds.js'
import { isDocketError } from '../../src/core/errors.js'
import { Docket, Worker } from '../../src/index.js'
import { type App, buildApp } from '../../src/server/app.js'

/** What one entry point made of a value: accepted, or refused with an issue at `path`. */
type Outcome =
  | { accepted: true }
  | { accepted: false; message: string; issues: { path: string; message: string }[] }

/** An entry point: a name, the field path its refusal names, and the call. */
interface Entry {
  name: string
  path: string
  call: (value: unknown) => Promise<Outcome>
}

const WORKER = 'bounds-worker'
const QUEUE = 'bounds'
/** A job id of the right form that names no job. */
const NO_JOB = '01900000-0000-7000-8000-000000000000'

describe('one rule per bound: library, worker protocol and HTTP agree', () => {
  let dir: string
  let docket: Docket
  let app: App

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'docket-bounds-'))
    docket = await Docket.open(join(dir, 'docket.db'))
    app = await buildApp({ docket, auth: 'none', logger: false })
    await app.ready()
    await docket.createQueue({ name: QUEUE })
    await docket.workers.register(record(WORKER))
  })
  after(async () => {
    await app.close()
    await docket.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const record = (id: unknown) =>
    ({ id, host: 'h', pid: 1, kind: 'cpu', capabilities: [], queues: [QUEUE], concurrency: 1 }) as never

  /** A library or worker-protocol call: refused means INVALID_ARGUMENT; any other answer is accepted. */
  const library = (name: string, path: string, call: (value: never) => unknown): Entry => ({
    name,
    path,
    call: async (value) => {
      try {
        await call(value as never)
        return { accepted: true }
      } catch (error) {
        if (isDocketError(error) && error.code === 'INVALID_ARGUMENT')
          return { accepted: false, message: error.message, issues: error.details.issues ?? [] }
        return { accepted: true }
      }
    },
  })

  /** An HTTP request: refused means 400 INVALID_ARGUMENT; any other status (a 404 of an unknown id, say) is accepted. */
  const http = (
    name: string,
    path: string,
    request: (value: never) => { method: 'GET' | 'POST'; url: string; body?: object },
  ): Entry => ({
    name,
    path,
    call: async (value) => {
      const { method, url, body } = request(value as never)
      const reply = await app.inject({ method, url: `/api/v1${url}`, ...(body ? { payload: body } : {}) })
      assert.notEqual(reply.statusCode, 500, reply.body)
      if (reply.statusCode !== 400) return { accepted: true }
      const { error } = reply.json()
      assert.equal(error.code, 'INVALID_ARGUMENT')
      return { accepted: false, message: error.message, issues: error.details.issues ?? [] }
    },
  })

  /**
   * Every entry point accepts each of `accepted` and refuses each of
   * `refused`, naming its field with `rule` (or, for a value given as
   * `[value, message]`, that message) in the issue and in the error's message.
   */
  async function agree(
    entries: Entry[],
    rule: string,
    accepted: unknown[],
    refused: (unknown | [unknown, string])[],
  ): Promise<void> {
    for (const value of accepted) {
      for (const entry of entries) {
        const outcome = await entry.call(value)
        assert.ok(
          outcome.accepted,
          `${entry.name} refused ${show(value)}: ${outcome.accepted || outcome.message}`,
        )
      }
    }
    for (const item of refused) {
      const [value, message] = Array.isArray(item) ? item : [item, rule]
      for (const entry of entries) {
        const outcome = await entry.call(value)
        const what = `${entry.name} with ${show(value)}`
        assert.ok(!outcome.accepted, `${what} was accepted`)
        assert.deepEqual(outcome.issues, [{ path: entry.path, message }], what)
        assert.ok(
          outcome.message.includes(entry.path),
          `${what}: the message names the field: ${outcome.message}`,
        )
        assert.ok(
          outcome.message.includes(message),
          `${what}: the message states the rule: ${outcome.message}`,
        )
      }
    }
  }

  const show = (value: unknown) => {
    const text = typeof value === 'string' ? JSON.stringify(value) : String(value)
    return text.length > 40 ? `${text.slice(0, 37)}...` : text
  }
  const handlers = { noop: async () => {} }

  it(`a lease lasts ${MIN_LEASE_MS} ms to ${MAX_LEASE_MS} ms (24 hours), wherever it is given`, async () => {
    await agree(
      [
        library(
          'new Worker({ leaseMs })',
          'leaseMs',
          (leaseMs) => new Worker(docket, { queues: [QUEUE], handlers, leaseMs }),
        ),
        library('Docket.open({ defaultLeaseMs })', 'defaultLeaseMs', async (defaultLeaseMs) =>
          (await Docket.open(join(dir, 'docket.db'), { defaultLeaseMs })).close(),
        ),
        library('workers.claim({ leaseMs })', 'leaseMs', (leaseMs) =>
          docket.workers.claim({ workerId: WORKER, queues: [QUEUE], leaseMs }),
        ),
        library('workers.heartbeat(job, leaseMs)', 'leaseMs', (leaseMs) =>
          docket.workers.heartbeat({ id: NO_JOB, token: 't' }, leaseMs),
        ),
        http('POST /workers/{id}/claim', 'body.leaseMs', (leaseMs) => ({
          method: 'POST',
          url: `/workers/${WORKER}/claim`,
          body: { queues: [QUEUE], leaseMs },
        })),
        http('POST /jobs/{id}/heartbeat', 'body.leaseMs', (leaseMs) => ({
          method: 'POST',
          url: `/jobs/${NO_JOB}/heartbeat`,
          body: { token: 't', leaseMs },
        })),
      ],
      LEASE_RULE,
      // The old HTTP range (1 s to 1 h) is inside the one rule, and so are the edges.
      [MIN_LEASE_MS, 1_000, 30_000, 3_600_000, 3_600_001, MAX_LEASE_MS],
      [0, MIN_LEASE_MS - 1, MAX_LEASE_MS + 1, 1000.5, '30000', null],
    )
  })

  it('a worker id is 1-200 characters of storable text, wherever it is given', async () => {
    const nul = 'a worker id may not contain a NUL character (\\u0000), which cannot be stored'
    const body = [
      library('new Worker({ id })', 'id', (id) => new Worker(docket, { queues: [QUEUE], handlers, id })),
      library('workers.register({ id })', 'id', (id) => docket.workers.register(record(id))),
      library('workers.claim({ workerId })', 'workerId', (workerId) =>
        docket.workers.claim({ workerId, queues: [QUEUE] }),
      ),
      library('workers.beat(id)', 'id', (id) => docket.workers.beat(id, 0)),
      library('workers.get(id)', 'id', (id) => docket.workers.get(id)),
      http('POST /workers', 'body.id', (id) => ({
        method: 'POST',
        url: '/workers',
        body: { id, queues: [QUEUE] },
      })),
    ]
    await agree(
      body,
      WORKER_ID_RULE,
      ['w', 'host-7:1234:ab', 'x'.repeat(200)],
      ['', 'x'.repeat(201), 42, ['a\u0000b', nul]],
    )
    // In a path too: the longest worker id a registration takes is usable in every worker route.
    const path = [
      http('POST /workers/{id}/heartbeat', 'params.id', (id: string) => ({
        method: 'POST',
        url: `/workers/${encodeURIComponent(id)}/heartbeat`,
        body: { load: 0 },
      })),
      library('workers.beat(id)', 'id', (id) => docket.workers.beat(id, 0)),
    ]
    await agree(path, WORKER_ID_RULE, ['w', 'ü'.repeat(200), 'x'.repeat(200)], ['x'.repeat(201)])
    assert.ok(await docket.workers.beat('x'.repeat(200), 0), 'a 200-character id was registered through HTTP')
  })

  it('a job id is a UUID in either case, wherever it is given', async () => {
    await agree(
      [
        library('getJob(id)', 'id', (id) => docket.getJob(id)),
        library('cancelJob(id)', 'id', (id) => docket.cancelJob(id)),
        library('add({ id })', 'id', (id) => docket.add({ queue: QUEUE, type: 't', id })),
        library('workers.complete({ id, token })', 'id', (id) => docket.workers.complete({ id, token: 't' })),
        http('GET /jobs/{id}', 'params.id', (id: string) => ({ method: 'GET', url: `/jobs/${id}` })),
        http('POST /jobs/{id}/heartbeat', 'params.id', (id: string) => ({
          method: 'POST',
          url: `/jobs/${id}/heartbeat`,
          body: { token: 't' },
        })),
      ],
      'expected a job id (a UUID)',
      ['01900000-0000-7000-8000-0000000000a1', '01900000-0000-7000-8000-0000000000B2'],
      ['not-a-uuid', `${NO_JOB}0`, NO_JOB.replaceAll('-', ''), '0190000g-0000-7000-8000-000000000000'],
    )
  })

  it('a queue name is 1-128 letters, digits and . _ : -, wherever it is given', async () => {
    await agree(
      [
        library('getQueue(name)', 'name', (name) => docket.getQueue(name)),
        library('createQueue({ name })', 'name', (name) => docket.createQueue({ name })),
        library('workers.claim({ queues })', 'queues.0', (name) =>
          docket.workers.claim({ workerId: WORKER, queues: [name] }),
        ),
        library(
          'new Worker({ queues })',
          'queues.0',
          (name) => new Worker(docket, { queues: [name], handlers }),
        ),
        http('GET /queues/{name}', 'params.name', (name: string) => ({
          method: 'GET',
          url: `/queues/${encodeURIComponent(name)}`,
        })),
        http('POST /queues', 'body.name', (name) => ({ method: 'POST', url: '/queues', body: { name } })),
        http('POST /workers', 'body.queues.0', (name) => ({
          method: 'POST',
          url: '/workers',
          body: { queues: [name] },
        })),
      ],
      QUEUE_NAME_RULE,
      ['a', 'Z9', 'ns:emails-v2_x.y', 'q'.repeat(128)],
      ['q'.repeat(129), 'has space', '-lead', '.lead', 'ünï', 'slash/x'],
    )
  })

  it(`a duration is a whole number of milliseconds from 0 to ${MAX_DURATION_MS} (ten years), wherever it is given`, async () => {
    await agree(
      [
        library('add({ delayMs })', 'delayMs', (delayMs) => docket.add({ queue: QUEUE, type: 't', delayMs })),
        library('cleanup({ olderThanMs })', 'olderThanMs', (olderThanMs) => docket.cleanup({ olderThanMs })),
        library('workers.snooze(job, delayMs)', 'delayMs', (delayMs) =>
          docket.workers.snooze({ id: NO_JOB, token: 't' }, delayMs),
        ),
        library('workers.fail(job, error, { retryInMs })', 'retryInMs', (retryInMs) =>
          docket.workers.fail({ id: NO_JOB, token: 't' }, 'boom', { retryInMs }),
        ),
        http('POST /jobs', 'body.delayMs', (delayMs) => ({
          method: 'POST',
          url: '/jobs',
          body: { queue: QUEUE, type: 't', delayMs },
        })),
        http('POST /jobs/{id}/snooze', 'body.delayMs', (delayMs) => ({
          method: 'POST',
          url: `/jobs/${NO_JOB}/snooze`,
          body: { token: 't', delayMs },
        })),
        http('POST /jobs/{id}/fail', 'body.retryInMs', (retryInMs) => ({
          method: 'POST',
          url: `/jobs/${NO_JOB}/fail`,
          body: { token: 't', error: { message: 'boom' }, retryInMs },
        })),
      ],
      DURATION_RULE,
      [0, 1, 86_400_000, MAX_DURATION_MS],
      [-1, MAX_DURATION_MS + 1, 1.5, '1000', null],
    )
  })
})
