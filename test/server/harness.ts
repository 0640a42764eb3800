/**
 * A real Docket server on 127.0.0.1 for the HTTP end-to-end suites: a fresh
 * database of the given driver, an app listening on a random port, API keys
 * for every kind of caller, and a client whose every answer is checked for
 * the things no response may ever do (a stack trace, a 500, a leaked key, an
 * error body of another shape).
 */
import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { ERROR_CODES, type ErrorCode } from '../../src/core/errors.js'
import { Docket, type DocketOptions } from '../../src/index.js'
import { type App, type AppOptions, buildApp } from '../../src/server/app.js'
import { createKey } from '../../src/server/auth.js'
import { type Driver, freshTarget, type Target } from '../worker/harness.js'

export type { Driver }
// biome-ignore lint/suspicious/noExplicitAny: JSON bodies in tests are read field by field
export type Json = Record<string, any>

/** Who calls: a principal with a key, a revoked key, a key that never existed, or nobody. */
export type Who = 'admin' | 'alice' | 'bob' | 'worker' | 'revoked' | 'bogus' | null
export type Keys = Record<Exclude<Who, null>, string>

export interface Reply {
  status: number
  headers: Headers
  text: string
  body: Json
}

export const UNKNOWN_ID = '01900000-0000-7000-8000-000000000000'
export { sleep } from '../support/helpers.js'
export const json = { 'content-type': 'application/json' }

/**
 * A client of one listening app. Given the app itself, it sends through
 * Fastify's inject(), in process and without a socket; `base` stays for the
 * tests that need a real connection (streams, uploads, the live feed).
 */
export class Client {
  constructor(
    readonly base: string,
    readonly keys: Keys,
    readonly app?: App,
  ) {}

  async #send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<{ status: number; headers: Headers; text: string }> {
    // A refused upload ends its connection (src/server/uploads.ts), which needs a real one.
    if (!this.app || /multipart/i.test(headers['content-type'] ?? '')) {
      const response = await fetch(`${this.base}${path}`, { method, headers, body })
      return { status: response.status, headers: response.headers, text: await response.text() }
    }
    // The host a browser would name: the Origin check compares with it.
    const host = new URL(this.base).host
    const reply = await this.app.inject({
      method: method as 'GET',
      url: path,
      headers: { host, ...headers },
      payload: body,
    })
    const replied = new Headers()
    for (const [name, value] of Object.entries(reply.headers))
      for (const v of Array.isArray(value) ? value : [value])
        if (v !== undefined) replied.append(name, String(v))
    return { status: reply.statusCode, headers: replied, text: reply.body }
  }

  /** Sends a request; an object body goes as JSON, a string body as is (give its content type). */
  async call(
    who: Who,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply> {
    const h: Record<string, string> = {}
    if (who) h.authorization = `Bearer ${this.keys[who]}`
    if (body !== undefined && typeof body !== 'string') h['content-type'] = 'application/json'
    Object.assign(h, headers)
    const response = await this.#send(
      method,
      path,
      h,
      body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    )
    const text = response.text
    const what = `${method} ${path} → ${response.status}`
    assert.doesNotMatch(text, /^ {4}at /m, `${what} leaked a stack trace`)
    assert.doesNotMatch(text, /\n\s+at \S+ \(.*:\d+:\d+\)/, `${what} leaked a stack trace`)
    assert.notEqual(response.status, 500, `${what}: ${text}`)
    for (const key of Object.values(this.keys)) assert.ok(!text.includes(key), `${what} leaked an API key`)
    const isJson = (response.headers.get('content-type') ?? '').includes('json')
    const parsed = isJson && text ? (JSON.parse(text) as Json) : {}
    if (response.status >= 400) assertErrorShape(parsed, response.status, what)
    return { status: response.status, headers: response.headers, text, body: parsed }
  }

  /** Calls and asserts success with the given status; returns the body. */
  async ok(
    status: number,
    who: Who,
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Json> {
    const r = await this.call(who, method, path, body, headers)
    assert.equal(r.status, status, `${method} ${path}: ${r.text.slice(0, 500)}`)
    return r.body
  }

  /** Calls and asserts the documented error; returns `error`. */
  async fail(
    status: number,
    code: ErrorCode,
    who: Who,
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Json> {
    const r = await this.call(who, method, path, body, headers)
    assert.equal(r.status, status, `${method} ${path}: ${r.text.slice(0, 500)}`)
    assert.equal(r.body.error.code, code, `${method} ${path}: ${r.text.slice(0, 500)}`)
    return r.body.error
  }
}

/** `{ error: { code, message, details } }` and nothing else, with a code that maps onto the status. */
export function assertErrorShape(body: Json, status: number, what: string): void {
  assert.deepEqual(Object.keys(body), ['error'], `${what}: not the error shape: ${JSON.stringify(body)}`)
  const e = body.error
  assert.deepEqual(Object.keys(e).sort(), ['code', 'details', 'message'], `${what}: ${JSON.stringify(e)}`)
  assert.equal(typeof e.message, 'string', what)
  assert.ok(e.message.length > 0, what)
  assert.ok(e.details !== null && typeof e.details === 'object' && !Array.isArray(e.details), what)
  assert.ok(e.code in ERROR_CODES, `${what}: unknown code ${e.code}`)
  assert.equal(ERROR_CODES[e.code as ErrorCode], status, `${what}: code ${e.code} does not map to ${status}`)
}

export interface Server extends Pick<Client, 'call' | 'ok' | 'fail'> {
  driver: Driver
  /** The database's URL, for a test that looks at it with plain SQL (test/support/sql.ts). */
  url: string
  docket: Docket
  app: App
  base: string
  keys: Keys
  client: Client
  /** Another app on the same database, with its own failed-authentication limiter. */
  spare(options?: Partial<AppOptions>): Promise<{ client: Client; close(): Promise<void> }>
  /** Everything a refused call must leave alone: queues with counts, every job, the workers. */
  snapshot(): Promise<Json>
}

async function listen(options: AppOptions): Promise<{ app: App; base: string }> {
  const app = await buildApp(options)
  await app.listen({ host: '127.0.0.1', port: 0 })
  return { app, base: `http://127.0.0.1:${(app.server.address() as { port: number }).port}` }
}

/**
 * Registers before/after hooks in the calling describe() that start a server
 * on a fresh database; the returned object is filled in once before() ran.
 */
export function useServer(
  driver: Driver,
  options: Partial<AppOptions> = {},
  docketOptions: DocketOptions = {},
): Server {
  const s = { driver } as Server
  let target: Target
  const spares: App[] = []
  before(async () => {
    target = await freshTarget(driver)
    s.url = target.url
    s.docket = await Docket.open(target.url, docketOptions)
    const { app, base } = await listen({ docket: s.docket, ...options })
    s.app = app
    s.base = base
    const revoked = await createKey(s.docket, 'carol', 'user')
    await s.docket.access.revokeApiKey(revoked.info.id)
    s.keys = {
      admin: (await createKey(s.docket, 'root', 'admin')).key,
      alice: (await createKey(s.docket, 'alice', 'user')).key,
      bob: (await createKey(s.docket, 'bob', 'user')).key,
      worker: (await createKey(s.docket, 'gpu-box', 'worker')).key,
      revoked: revoked.key,
      bogus: `dk_bogus0_${'x'.repeat(26)}`,
    }
    s.client = new Client(base, s.keys, app)
    s.call = s.client.call.bind(s.client)
    s.ok = s.client.ok.bind(s.client)
    s.fail = s.client.fail.bind(s.client)
    s.spare = async (more = {}) => {
      const spare = await listen({ docket: s.docket, ...options, ...more })
      spares.push(spare.app)
      return { client: new Client(spare.base, s.keys, spare.app), close: () => spare.app.close() }
    }
    s.snapshot = async () => {
      const queues = await s.ok(200, 'admin', 'GET', '/api/v1/queues')
      const jobs = await s.ok(200, 'admin', 'GET', '/api/v1/jobs?limit=1000&sort=createdAt&order=asc')
      const workers = await s.ok(200, 'admin', 'GET', '/api/v1/workers')
      return {
        // Health is read, not stored: its latency grows with the clock.
        queues: queues.queues.map(({ health: _, ...q }: Json) => q),
        jobs: jobs.jobs,
        workers: workers.workers.map(({ heartbeatAgeMs: _, ...w }: Json) => w),
      }
    }
  })
  after(async () => {
    for (const app of spares) await app.close()
    await s.app?.close()
    await s.docket?.close()
    await target?.cleanup()
  })
  return s
}
