/** A job list's id, search and where options (core/job-search.ts), parsed once for both drivers. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  COUNT_LIMIT,
  containsPattern,
  idFragment,
  jobMatch,
  matchCount,
  parseIdOption,
  parseSearch,
  parseWhere,
  SEARCH_MAX,
  WHERE_MAX,
} from '../../src/core/job-search.js'
import { expectDocketError } from './expect-error.js'

const ID = '0190ab12-3456-7def-8123-456789abcdef'
const refused = (fn: () => unknown, pattern: RegExp) =>
  assert.match(expectDocketError(fn, 'INVALID_ARGUMENT').message, pattern)

describe('job-search', () => {
  it('a full id matches itself only', () => {
    assert.deepEqual(idFragment(ID), { from: ID, to: ID, shortId: null })
    assert.deepEqual(idFragment(ID.toUpperCase()), { from: ID, to: ID, shortId: null })
  })

  it('a prefix of 6 or more characters is the range of ids it starts, with or without its dashes', () => {
    assert.deepEqual(idFragment('0190ab123'), {
      from: '0190ab12-3000-0000-0000-000000000000',
      to: '0190ab12-3fff-ffff-ffff-ffffffffffff',
      shortId: null,
    })
    assert.deepEqual(idFragment('0190ab12-3'), idFragment('0190ab123'))
    assert.equal(idFragment('0190a'), null, 'too short')
    assert.equal(idFragment('0190-ab123'), null, 'a dash where a UUID has none')
    assert.equal(idFragment('invoice'), null, 'not hex')
  })

  it('exactly 8 hex digits may also be the short id: the last 8 characters', () => {
    assert.equal(idFragment('89abcdef')?.shortId, '89abcdef')
    assert.equal(idFragment('0190ab1')?.shortId, null, 'seven digits are a prefix only')
    assert.equal(idFragment('0190ab123')?.shortId, null, 'and so are nine')
  })

  it('the id option refuses what cannot be an id, saying what it takes', () => {
    assert.equal(parseIdOption(`  ${ID} `).from, ID)
    refused(() => parseIdOption('abc'), /invalid id: expected a job id, its first 6 or more characters/)
  })

  it('a search is trimmed text, maybe an id, bounded, without control characters', () => {
    assert.deepEqual(parseSearch('  acme  '), { text: 'acme', id: null })
    assert.equal(parseSearch('0190ab12').id?.shortId, '0190ab12')
    refused(() => parseSearch('   '), /invalid search: expected some text/)
    refused(() => parseSearch('x'.repeat(SEARCH_MAX + 1)), new RegExp(`at most ${SEARCH_MAX} characters`))
    refused(() => parseSearch('a\u0007b'), /control characters are not allowed/)
  })

  it("escapes LIKE's own characters in a contains pattern", () => {
    assert.equal(containsPattern('50%_off\\'), '%50\\%\\_off\\\\%')
  })

  it('where: conditions on payload paths joined by and, each value of its JSON type', () => {
    assert.deepEqual(
      parseWhere('payload.customerId = 42 AND payload.user.email = "a@b.c" and payload.ok != null'),
      [
        { path: ['customerId'], op: '=', value: 42 },
        { path: ['user', 'email'], op: '=', value: 'a@b.c' },
        { path: ['ok'], op: '!=', value: null },
      ],
    )
    assert.deepEqual(parseWhere('payload.n>=-1.5e3'), [{ path: ['n'], op: '>=', value: -1500 }])
    assert.deepEqual(parseWhere('payload.flag = false'), [{ path: ['flag'], op: '=', value: false }])
  })

  it('where: a malformed filter names what was expected and where', () => {
    refused(() => parseWhere('customerId = 1'), /expected a path starting with `payload\.`.*at character 1/)
    refused(() => parseWhere('payload = 1'), /expected `\.` and a key after payload/)
    refused(() => parseWhere('payload.1x = 1'), /expected a key after `\.`/)
    refused(() => parseWhere('payload.a ~ 1'), /expected an operator \(= != < <= > >=\) after payload\.a/)
    refused(() => parseWhere('payload.a < true'), /< needs a number or a string, not true/)
    refused(() => parseWhere('payload.a = nope'), /expected a value/)
    refused(() => parseWhere('payload.a = 1 or payload.b = 2'), /expected `and` or the end of the filter/)
    refused(() => parseWhere('payload.a = "\\u0000"'), /NUL character/)
    refused(() => parseWhere('payload.a = 1e999'), /out of range/)
    refused(() => parseWhere(`payload.${Array(11).fill('k').join('.')} = 1`), /at most 10 keys deep/)
    refused(() => parseWhere(Array(11).fill('payload.a = 1').join(' and ')), /at most 10 conditions/)
    refused(
      () => parseWhere(`payload.a = "${'x'.repeat(WHERE_MAX)}"`),
      new RegExp(`at most ${WHERE_MAX} characters`),
    )
  })

  it('jobMatch parses what is given, and a blank search is no search', () => {
    assert.deepEqual(jobMatch({}), {})
    assert.deepEqual(jobMatch({ search: '  ' }), {})
    const m = jobMatch({ id: '0190ab', search: 'acme', where: 'payload.a = 1' })
    assert.equal(m.id?.from, '0190ab00-0000-0000-0000-000000000000')
    assert.equal(m.search?.text, 'acme')
    assert.equal(m.where?.length, 1)
  })

  it('a count is exact up to the limit, and "at least" past it', () => {
    assert.deepEqual(matchCount(12), { value: 12, exact: true })
    assert.deepEqual(matchCount(COUNT_LIMIT), { value: COUNT_LIMIT, exact: true })
    assert.deepEqual(matchCount(COUNT_LIMIT + 1), { value: COUNT_LIMIT, exact: false })
  })
})
