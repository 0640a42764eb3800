/** Assertions shared by the unit tests: a call must throw a DocketError with a given code. */
import assert from 'node:assert/strict'
import { DocketError, type ErrorCode } from '../../src/core/errors.js'

/** Runs `fn`, which must throw; returns what it threw. */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  return assert.fail('expected the call to throw, but it returned')
}

/** `fn` must throw a DocketError with `code` whose message contains every string in `mentions`. */
export function expectDocketError(fn: () => unknown, code: ErrorCode, ...mentions: string[]): DocketError {
  const error = thrownBy(fn)
  assert.ok(error instanceof DocketError, `expected a DocketError, got ${String(error)}`)
  assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`)
  for (const m of mentions) {
    assert.ok(
      error.message.includes(m),
      `expected the message to mention ${JSON.stringify(m)}: ${error.message}`,
    )
  }
  return error
}

/** The field paths listed in an INVALID_ARGUMENT error's details. */
export function issuePaths(error: DocketError): string[] {
  assert.ok(Array.isArray(error.details.issues), 'expected details.issues to be an array')
  return error.details.issues.map((i) => i.path)
}
