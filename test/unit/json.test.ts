import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DocketError, isDocketError } from '../../src/core/errors.js'
import { findNonJson } from '../../src/core/json.js'
import { assertJsonValue, DEFAULT_MAX_PAYLOAD_BYTES } from '../../src/core/resolve.js'
import { expectDocketError, issuePaths, thrownBy } from './expect-error.js'

/** `depth` arrays nested inside one another, as JSON.parse would build them from a request body. */
const nested = (depth: number): unknown => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`)

describe('findNonJson: plain JSON passes', () => {
  it('accepts every JSON primitive at the top level', () => {
    for (const value of [null, true, false, 0, -1.5, 1e300, '', 'text', 'ünïcødé ✓']) {
      assert.equal(findNonJson(value), null, JSON.stringify(value))
    }
  })

  it('accepts empty and nested objects and arrays', () => {
    assert.equal(findNonJson({}), null)
    assert.equal(findNonJson([]), null)
    assert.equal(
      findNonJson({ a: [1, 'two', null, true, { b: { c: [[], {}] } }], 'key with spaces': { '': 0 } }),
      null,
    )
  })

  it('accepts objects without a prototype (what a safe JSON parser may build)', () => {
    const bare = Object.create(null) as Record<string, unknown>
    bare.x = 1
    assert.equal(findNonJson({ bare }), null)
  })

  it('accepts the same object referenced many times, as long as there is no cycle', () => {
    const shared = { deep: { list: [1, 2] } }
    const list = [shared, shared, shared]
    assert.equal(
      findNonJson({ a: shared, b: shared, c: [shared, { again: shared }], list, list2: list }),
      null,
    )
    // Twice in a row: nothing is left over from the first walk.
    assert.equal(findNonJson(list), null)
    assert.equal(findNonJson(list), null)
  })

  it('accepts what JSON.parse produces', () => {
    const text = '{"a":[1,2,{"b":null}],"c":"d","e":{"f":true,"g":-0.5}}'
    assert.equal(findNonJson(JSON.parse(text)), null)
  })
})

describe('findNonJson: what would not survive a round trip', () => {
  class Point {
    x = 1
  }

  const cases: [string, unknown, string, RegExp][] = [
    ['undefined', undefined, '', /undefined is not JSON/],
    ['NaN', Number.NaN, '', /NaN is not a JSON number/],
    ['Infinity', Number.POSITIVE_INFINITY, '', /Infinity is not a JSON number/],
    ['-Infinity', Number.NEGATIVE_INFINITY, '', /-Infinity is not a JSON number/],
    ['a bigint', 10n, '', /a bigint is not JSON/],
    ['a function', () => 1, '', /a function is not JSON/],
    ['a symbol', Symbol('s'), '', /a symbol is not JSON/],
    ['a Date', new Date(0), '', /a Date is not plain JSON/],
    ['a Map', new Map([['a', 1]]), '', /a Map is not plain JSON/],
    ['a Set', new Set([1]), '', /a Set is not plain JSON/],
    ['a class instance', new Point(), '', /a Point is not plain JSON/],
    ['a boxed string', new String('x'), '', /a String is not plain JSON/],
    ['a typed array', new Uint8Array(2), '', /a Uint8Array is not plain JSON/],
    ['a RegExp', /x/, '', /a RegExp is not plain JSON/],
    ['an Error', new Error('x'), '', /an? Error is not plain JSON/],
    ['a URL', new URL('https://example.com'), '', /a URL is not plain JSON/],
    ['a NUL in a string', 'a\u0000b', '', /NUL/],
    ['a lone high surrogate', 'a\ud800b', '', /lone UTF-16 surrogate/],
    ['a lone low surrogate', '\udfff', '', /lone UTF-16 surrogate/],
    ['a high surrogate at the end', 'ok\ud83d', '', /lone UTF-16 surrogate/],
    ['surrogates in the wrong order', '\ude00\ud83d', '', /lone UTF-16 surrogate/],
  ]

  for (const [what, value, path, message] of cases) {
    it(`refuses ${what} at the top level`, () => {
      const issue = findNonJson(value)
      assert.ok(issue, `${what} passed`)
      assert.equal(issue.path, path)
      assert.match(issue.message, message)
    })

    it(`refuses ${what} nested, naming its dotted path`, () => {
      const issue = findNonJson({ outer: { list: [0, { inner: value }] } })
      assert.ok(issue, `${what} passed`)
      assert.equal(issue.path, 'outer.list.1.inner')
      assert.match(issue.message, message)
    })
  }

  it('prefixes the path it is given', () => {
    assert.equal(findNonJson(undefined, 'payload')?.path, 'payload')
    assert.equal(findNonJson({ a: [Number.NaN] }, 'jobs.3.payload')?.path, 'jobs.3.payload.a.0')
  })

  it('refuses undefined in an array and a hole in a sparse array (JSON would turn both into null)', () => {
    assert.equal(findNonJson([1, undefined, 3])?.path, '1')
    const sparse: unknown[] = [1]
    sparse[2] = 3
    assert.equal(findNonJson(sparse)?.path, '1')
  })

  it('refuses a NUL character in a key, naming the key', () => {
    const issue = findNonJson({ ok: { 'b\u0000d': 1 } })
    assert.equal(issue?.path, 'ok.b\u0000d')
    assert.match(issue?.message ?? '', /key contains a NUL/)
  })

  it('refuses a lone surrogate in a key, naming the key', () => {
    const issue = findNonJson({ ok: { 'k\ud800': 1 } })
    assert.equal(issue?.path, 'ok.k\ud800')
    assert.match(issue?.message ?? '', /key contains a lone UTF-16 surrogate/)
  })

  it('accepts surrogate pairs (emoji and other characters beyond the BMP)', () => {
    assert.equal(findNonJson({ '😀': '𝄞 music, 🎉 party, 𠜎 a CJK extension character' }), null)
    assert.equal(findNonJson(JSON.parse('"\\ud83d\\ude00"')), null)
  })

  it('refuses what JSON.parse makes of an escaped lone surrogate', () => {
    const issue = findNonJson(JSON.parse('{"secret":"hunter2","s":"\\ud800"}'), 'payload')
    assert.equal(issue?.path, 'payload.s')
  })

  it('refuses a value that contains itself', () => {
    const self: Record<string, unknown> = { a: 1 }
    self.self = self
    assert.deepEqual(findNonJson(self), { path: 'self', message: 'contains a circular reference' })
  })

  it('refuses an indirect cycle, naming where it closes', () => {
    const a: Record<string, unknown> = {}
    const b: Record<string, unknown> = { c: { back: a } }
    a.b = b
    assert.equal(findNonJson({ root: a })?.path, 'root.b.c.back')
    assert.match(findNonJson({ root: a })?.message ?? '', /circular/)
  })

  it('refuses an array that contains itself', () => {
    const list: unknown[] = [1]
    list.push(list)
    assert.equal(findNonJson(list)?.path, '1')
  })

  it('reports the first problem in key order', () => {
    assert.equal(findNonJson({ a: 1, b: undefined, c: Number.NaN })?.path, 'b')
    assert.equal(findNonJson([0, [Number.NaN], undefined])?.path, '1.0')
  })

  it('refuses a plain object whose method would be dropped (e.g. a toJSON function)', () => {
    assert.equal(findNonJson({ toJSON: () => 'x' })?.path, 'toJSON')
  })

  it('answers for deeply nested JSON instead of overflowing the stack', () => {
    // A 6 KB request body of nested arrays is valid JSON; checking it must not crash with a RangeError.
    const value = nested(3_000)
    const outcome = thrownBy(() => {
      findNonJson(value)
      throw new Error('returned')
    })
    assert.ok(outcome instanceof Error)
    assert.equal(outcome.message, 'returned', `findNonJson threw ${outcome.name}: ${outcome.message}`)
  })
})

describe('assertJsonValue', () => {
  it('returns the JSON text of a valid value', () => {
    const value = { a: [1, 'b', null], c: { d: true } }
    assert.equal(assertJsonValue(value, 'payload'), JSON.stringify(value))
    assert.equal(assertJsonValue(null, 'payload'), 'null')
    assert.equal(assertJsonValue('x', 'result'), '"x"')
  })

  it('refuses a non-JSON value with INVALID_ARGUMENT naming the full path', () => {
    const error = expectDocketError(
      () => assertJsonValue({ outer: { inner: 10n } }, 'payload'),
      'INVALID_ARGUMENT',
      'invalid payload',
      'payload.outer.inner',
      'bigint',
    )
    assert.deepEqual(issuePaths(error), ['payload.outer.inner'])
  })

  it('refuses undefined itself, naming the value', () => {
    const error = expectDocketError(() => assertJsonValue(undefined, 'result'), 'INVALID_ARGUMENT', 'result')
    assert.deepEqual(issuePaths(error), ['result'])
  })

  it('accepts exactly the limit and refuses one byte more', () => {
    const atLimit = 'x'.repeat(98) // '"' + 98 + '"' = 100 bytes
    assert.equal(assertJsonValue(atLimit, 'payload', 100).length, 100)
    const error = expectDocketError(
      () => assertJsonValue(`${atLimit}x`, 'payload', 100),
      'INVALID_ARGUMENT',
      'invalid payload',
      '101 bytes',
      'limit of 100',
    )
    assert.deepEqual(error.details.issues, [{ path: 'payload', message: 'at most 100 bytes of JSON' }])
  })

  it('counts UTF-8 bytes, not characters', () => {
    // '"' + 4 x 'é' (2 bytes each) + '"' = 10 bytes in 6 characters.
    assert.doesNotThrow(() => assertJsonValue('éééé', 'payload', 10))
    expectDocketError(() => assertJsonValue('ééééé', 'payload', 10), 'INVALID_ARGUMENT', '12 bytes')
    // '€' is 3 bytes.
    expectDocketError(() => assertJsonValue(['€€€'], 'payload', 12), 'INVALID_ARGUMENT', '13 bytes')
  })

  it('defaults to a 1 MiB limit', () => {
    assert.equal(DEFAULT_MAX_PAYLOAD_BYTES, 1024 * 1024)
    const justUnder = 'x'.repeat(DEFAULT_MAX_PAYLOAD_BYTES - 2)
    assert.equal(assertJsonValue(justUnder, 'payload').length, DEFAULT_MAX_PAYLOAD_BYTES)
    expectDocketError(() => assertJsonValue(`${justUnder}x`, 'payload'), 'INVALID_ARGUMENT', 'payload')
  })

  it('checks JSON-ness before size', () => {
    const error = expectDocketError(
      () => assertJsonValue({ big: 'x'.repeat(1000), bad: Number.NaN }, 'payload', 10),
      'INVALID_ARGUMENT',
    )
    assert.deepEqual(issuePaths(error), ['payload.bad'])
  })

  it('refuses deeply nested JSON with INVALID_ARGUMENT, or accepts it; never a RangeError', () => {
    const value = nested(3_000)
    let error: unknown = null
    try {
      assertJsonValue(value, 'payload')
    } catch (e) {
      error = e
    }
    assert.ok(
      error === null || isDocketError(error, 'INVALID_ARGUMENT'),
      `expected success or INVALID_ARGUMENT, got ${error instanceof DocketError ? error.code : String(error)}`,
    )
  })
})
