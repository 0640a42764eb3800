/**
 * The error answers that need no socket, through Fastify's inject(): every
 * client error has a stable code whose HTTP status is the one ERROR_CODES
 * gives it, whether Docket, Fastify or a plugin raised it.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { InjectOptions } from 'fastify'
import { ERROR_CODES, type ErrorCode } from '../../src/core/errors.js'
import { Docket } from '../../src/index.js'
import { type App, buildApp } from '../../src/server/app.js'
import { codeForStatus } from '../../src/server/errors.js'

describe('error answers (inject)', () => {
  let dir: string
  let docket: Docket
  let app: App

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'docket-inject-'))
    docket = await Docket.open(join(dir, 'docket.db'))
    app = await buildApp({ docket, auth: 'none', logger: false, bodyLimit: 1024 })
    // Stand-ins for a plugin that raises a client error of its own.
    app.get('/test/plugin-404', async () => {
      throw Object.assign(new Error('no such thing here'), { statusCode: 404 })
    })
    app.get('/test/plugin-418', async () => {
      throw Object.assign(new Error('short and stout'), { statusCode: 418 })
    })
    await app.ready()
  })
  after(async () => {
    await app.close()
    await docket.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** Sends a request and checks the answer's code agrees with its status. */
  async function expect(status: number, code: ErrorCode, request: InjectOptions) {
    const reply = await app.inject(request)
    const body = reply.json()
    assert.equal(reply.statusCode, status, reply.body)
    assert.equal(body.error.code, code)
    assert.equal(ERROR_CODES[code as ErrorCode], status, 'the code and the status agree')
    assert.equal(typeof body.error.message, 'string')
    assert.doesNotMatch(reply.body, /\n\s+at /, 'no stack trace')
    return body
  }

  it('an unknown route is NOT_FOUND naming it', async () => {
    const body = await expect(404, 'NOT_FOUND', { method: 'GET', url: '/api/v1/nothing?x=1' })
    assert.match(body.error.message, /GET \/api\/v1\/nothing$/)
  })

  it('malformed JSON, a body over the limit and a body of another type each have their code', async () => {
    const headers = { 'content-type': 'application/json' }
    await expect(400, 'INVALID_ARGUMENT', {
      method: 'POST',
      url: '/api/v1/queues',
      headers,
      payload: '{"name":',
    })
    await expect(413, 'PAYLOAD_TOO_LARGE', {
      method: 'POST',
      url: '/api/v1/queues',
      headers,
      payload: JSON.stringify({ name: 'q', pad: 'x'.repeat(2048) }),
    })
    await expect(415, 'UNSUPPORTED_MEDIA_TYPE', {
      method: 'POST',
      url: '/api/v1/queues',
      headers: { 'content-type': 'text/plain' },
      payload: 'name=q',
    })
    assert.deepEqual(await docket.listQueues(), [], 'nothing was created')
  })

  it('a path parameter over its length limit is a 400 INVALID_ARGUMENT, not a 414', async () => {
    await expect(400, 'INVALID_ARGUMENT', { method: 'GET', url: `/api/v1/jobs/${'a'.repeat(150)}` })
  })

  it('a client error a plugin raises keeps a code that matches its status', async () => {
    await expect(404, 'NOT_FOUND', { method: 'GET', url: '/test/plugin-404' })
    // A status no code has is answered as the generic 400, never as INVALID_ARGUMENT with a 418.
    await expect(400, 'INVALID_ARGUMENT', { method: 'GET', url: '/test/plugin-418' })
  })

  it('codeForStatus gives each status its first code, and 400 for the rest', () => {
    assert.equal(codeForStatus(401), 'UNAUTHENTICATED')
    assert.equal(codeForStatus(409), 'CONFLICT')
    assert.equal(codeForStatus(429), 'RATE_LIMITED')
    assert.equal(codeForStatus(405), 'INVALID_ARGUMENT')
  })
})
