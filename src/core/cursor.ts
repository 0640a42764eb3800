/**
 * Keyset pagination cursors: an opaque base64url token holding the sort key,
 * the direction and the last row's (sort value, id). A cursor is only valid
 * with the sort it was made for, so a client cannot mix pages of two orders.
 */
import { invalidArgument } from './errors.js'
import { isJobId, type SortKey } from './options.js'

export interface Cursor {
  sort: SortKey
  order: 'asc' | 'desc'
  /** Sort value of the last row seen: epoch milliseconds for dates, the number for priority. */
  value: number
  id: string
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.sort, cursor.order, cursor.value, cursor.id])).toString(
    'base64url',
  )
}

export function decodeCursor(token: string, sort: SortKey, order: 'asc' | 'desc'): Cursor {
  let parts: unknown
  try {
    parts = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))
  } catch {
    throw badCursor('it is not a cursor this API returned')
  }
  if (
    !Array.isArray(parts) ||
    parts.length !== 4 ||
    typeof parts[2] !== 'number' ||
    !Number.isFinite(parts[2]) ||
    !isJobId(parts[3])
  ) {
    throw badCursor('it is not a cursor this API returned')
  }
  if (parts[0] !== sort || parts[1] !== order) {
    throw badCursor(`it was made for sort ${parts[0]} ${parts[1]}, not ${sort} ${order}`)
  }
  if (!sortValueFits(sort, parts[2])) throw badCursor('it is not a cursor this API returned')
  return { sort, order, value: parts[2], id: parts[3] }
}

/** Whether a cursor's value is one a row of that sort can have, so the database never sees a NaN date or 1.5 as a priority. */
function sortValueFits(sort: SortKey, value: number): boolean {
  if (!Number.isSafeInteger(value)) return false
  if (sort === 'priority') return value >= 0 && value <= 100
  return Math.abs(value) <= MAX_DATE_MS
}

/** The largest time a JavaScript Date holds (±100,000,000 days from 1970). */
const MAX_DATE_MS = 8.64e15

function badCursor(why: string) {
  return invalidArgument(`invalid cursor: ${why}`, [{ path: 'cursor', message: why }])
}
