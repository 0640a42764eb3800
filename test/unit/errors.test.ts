import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  conflict,
  DocketError,
  ERROR_CODES,
  type ErrorCode,
  invalidArgument,
  isDocketError,
  leaseLost,
  notFound,
} from '../../src/core/errors.js'

describe('DocketError', () => {
  it('maps every code onto its HTTP status', () => {
    assert.deepEqual(ERROR_CODES, {
      INVALID_ARGUMENT: 400,
      UNAUTHENTICATED: 401,
      FORBIDDEN: 403,
      NOT_FOUND: 404,
      CONFLICT: 409,
      INVALID_STATE: 409,
      LEASE_LOST: 409,
      LEADERSHIP_LOST: 409,
      WAIT_TIMEOUT: 408,
      PAYLOAD_TOO_LARGE: 413,
      UNSUPPORTED_MEDIA_TYPE: 415,
      RATE_LIMITED: 429,
      TOO_MANY_FEEDS: 429,
      CLOSED: 503,
      SCHEMA_NEWER: 503,
      SCHEMA_OLDER: 503,
      INTERNAL: 500,
      SQLITE_DRIVER_MISSING: 500,
    })
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      assert.equal(new DocketError(code, 'm').httpStatus, ERROR_CODES[code], code)
    }
  })

  it('is an Error named DocketError carrying code, message and details', () => {
    const error = new DocketError('NOT_FOUND', 'gone', { id: 'x' })
    assert.ok(error instanceof Error)
    assert.equal(error.name, 'DocketError')
    assert.equal(error.code, 'NOT_FOUND')
    assert.equal(error.message, 'gone')
    assert.deepEqual(error.details, { id: 'x' })
    assert.match(String(error.stack), /DocketError: gone/)
  })

  it('defaults details to an empty object', () => {
    assert.deepEqual(new DocketError('INTERNAL', 'x').details, {})
  })

  it('serialises to { code, message, details } and nothing else', () => {
    const error = new DocketError('CONFLICT', 'taken', { key: 'k' })
    assert.deepEqual(error.toJSON(), { code: 'CONFLICT', message: 'taken', details: { key: 'k' } })
    assert.deepEqual(JSON.parse(JSON.stringify(error)), {
      code: 'CONFLICT',
      message: 'taken',
      details: { key: 'k' },
    })
  })
})

describe('isDocketError', () => {
  it('recognises a DocketError, optionally of one code', () => {
    const error = new DocketError('LEASE_LOST', 'x')
    assert.equal(isDocketError(error), true)
    assert.equal(isDocketError(error, 'LEASE_LOST'), true)
    assert.equal(isDocketError(error, 'NOT_FOUND'), false)
  })

  it('refuses look-alikes and non-errors', () => {
    const lookAlike = Object.assign(new Error('x'), { code: 'NOT_FOUND', name: 'DocketError' })
    assert.equal(isDocketError(lookAlike), false)
    assert.equal(isDocketError({ code: 'NOT_FOUND', message: 'x', details: {} }), false)
    assert.equal(isDocketError(null), false)
    assert.equal(isDocketError(undefined), false)
    assert.equal(isDocketError('NOT_FOUND'), false)
  })
})

describe('error factories', () => {
  it('invalidArgument lists issues only when there are some', () => {
    const bare = invalidArgument('bad')
    assert.equal(bare.code, 'INVALID_ARGUMENT')
    assert.equal(bare.httpStatus, 400)
    assert.equal(bare.message, 'bad')
    assert.deepEqual(bare.details, {})
    assert.deepEqual(invalidArgument('bad', []).details, {})
    const issues = [{ path: 'a.b', message: 'wrong' }]
    assert.deepEqual(invalidArgument('bad', issues).details, { issues })
  })

  it('notFound names the resource and id', () => {
    const error = notFound('job', 'abc')
    assert.equal(error.code, 'NOT_FOUND')
    assert.equal(error.httpStatus, 404)
    assert.equal(error.message, "job 'abc' does not exist")
    assert.deepEqual(error.details, { resource: 'job', id: 'abc' })
  })

  it('conflict keeps the message and details it is given', () => {
    const error = conflict('dedupe key taken', { jobId: 'j' })
    assert.equal(error.code, 'CONFLICT')
    assert.equal(error.httpStatus, 409)
    assert.equal(error.message, 'dedupe key taken')
    assert.deepEqual(error.details, { jobId: 'j' })
    assert.deepEqual(conflict('x').details, {})
  })

  it('leaseLost names the job and why the lease was lost', () => {
    const error = leaseLost('j1', 'cancelled')
    assert.equal(error.code, 'LEASE_LOST')
    assert.equal(error.httpStatus, 409)
    assert.match(error.message, /'j1'.*cancelled/)
    assert.deepEqual(error.details, { jobId: 'j1', reason: 'cancelled' })
  })
})
