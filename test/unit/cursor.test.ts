import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type Cursor, decodeCursor, encodeCursor } from '../../src/core/cursor.js'
import { SORT_KEYS } from '../../src/core/options.js'
import { expectDocketError } from './expect-error.js'

const ID = '0190a4b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b'
/** Encodes any JSON the way a cursor is encoded, to forge tokens. */
const forge = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

function rejected(
  token: string,
  sort: Cursor['sort'] = 'createdAt',
  order: Cursor['order'] = 'asc',
  why?: RegExp,
) {
  const error = expectDocketError(
    () => decodeCursor(token, sort, order),
    'INVALID_ARGUMENT',
    'invalid cursor: ',
  )
  assert.equal(error.details.issues?.length, 1)
  assert.equal(error.details.issues?.[0]?.path, 'cursor')
  if (why) {
    assert.match(error.message, why)
    assert.match(error.details.issues?.[0]?.message ?? '', why)
  }
}

describe('cursor round trip', () => {
  it('decodes what it encodes, for every sort and order', () => {
    for (const sort of SORT_KEYS) {
      for (const order of ['asc', 'desc'] as const) {
        for (const value of sort === 'priority' ? [0, 75, 100] : [0, 1_900_000_000_000, -5]) {
          const cursor: Cursor = { sort, order, value, id: ID }
          assert.deepEqual(decodeCursor(encodeCursor(cursor), sort, order), cursor)
        }
      }
    }
  })

  it('is an opaque URL-safe token', () => {
    const token = encodeCursor({ sort: 'priority', order: 'desc', value: 100, id: ID })
    assert.match(token, /^[A-Za-z0-9_-]+$/)
    assert.equal(token.includes(ID), false)
  })

  it('differs for different positions', () => {
    const a = encodeCursor({ sort: 'runAt', order: 'asc', value: 1, id: ID })
    const b = encodeCursor({ sort: 'runAt', order: 'asc', value: 2, id: ID })
    assert.notEqual(a, b)
  })

  it('accepts an upper-case id', () => {
    const id = ID.toUpperCase()
    assert.equal(decodeCursor(forge(['createdAt', 'asc', 1, id]), 'createdAt', 'asc').id, id)
  })
})

describe('cursor rejection', () => {
  it('refuses garbage that is not base64url JSON', () => {
    for (const token of [
      '',
      'garbage',
      '!!!!',
      '%%%',
      'eyJ',
      Buffer.from('not json').toString('base64url'),
    ]) {
      rejected(token, 'createdAt', 'asc', /not a cursor this API returned/)
    }
  })

  it('refuses JSON of the wrong shape', () => {
    for (const value of [
      null,
      42,
      'createdAt',
      {},
      { sort: 'createdAt', order: 'asc', value: 1, id: ID },
      [],
      ['createdAt', 'asc', 1],
      ['createdAt', 'asc', 1, ID, 'extra'],
      ['createdAt', 'asc', '1', ID],
      ['createdAt', 'asc', null, ID],
      ['createdAt', 'asc', 1, 'not-a-uuid'],
      ['createdAt', 'asc', 1, 7],
    ]) {
      rejected(forge(value), 'createdAt', 'asc', /not a cursor this API returned/)
    }
  })

  // Review finding: these reached PostgreSQL as a NaN date or a fractional priority: a 500.
  it('refuses a value no row of its sort can have', () => {
    for (const [sort, value] of [
      ['createdAt', 1e16],
      ['createdAt', 1.5],
      ['runAt', -1e16],
      ['priority', 1.5],
      ['priority', 101],
      ['priority', -1],
    ] as const) {
      rejected(forge([sort, 'desc', value, ID]), sort, 'desc', /not a cursor this API returned/)
    }
  })

  it('refuses a cursor made for another sort, naming both', () => {
    const token = encodeCursor({ sort: 'priority', order: 'desc', value: 50, id: ID })
    rejected(token, 'createdAt', 'desc', /made for sort priority desc, not createdAt desc/)
    rejected(token, 'runAt', 'desc', /made for sort priority desc, not runAt desc/)
  })

  it('refuses a cursor made for the other order, naming both', () => {
    const token = encodeCursor({ sort: 'priority', order: 'desc', value: 50, id: ID })
    rejected(token, 'priority', 'asc', /made for sort priority desc, not priority asc/)
  })

  it('refuses a cursor whose sort or order is unknown', () => {
    rejected(forge(['id', 'asc', 1, ID]), 'createdAt', 'asc', /not createdAt asc/)
    rejected(forge(['createdAt', 'up', 1, ID]), 'createdAt', 'asc', /not createdAt asc/)
  })

  it('refuses a tampered token', () => {
    const token = encodeCursor({ sort: 'createdAt', order: 'asc', value: 1, id: ID })
    rejected(`${token.slice(0, 5)}${token.slice(8)}`)
  })
})
