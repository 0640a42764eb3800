import type { FieldIssue } from './errors.js'

/**
 * Finds the first place where `value` would not survive a JSON round trip
 * unchanged: undefined, functions, symbols, bigints, NaN and Infinity, class
 * instances such as Date or Map, and cycles. JSON.stringify silently drops or
 * converts most of these, which would store something other than what the
 * caller passed. Strings, keys included, must also be text every driver can
 * store: no NUL and no lone UTF-16 surrogate (see `textIssue`).
 */
export function findNonJson(value: unknown, path = ''): FieldIssue | null {
  return walk(value, path, new Set(), 0)
}

/**
 * How deeply payloads, results and other stored JSON may nest. Deeper values
 * are refused: they would overflow the checker's (and the database's) stack,
 * and no real job needs them.
 */
export const MAX_JSON_DEPTH = 100

// With the `u` flag a surrogate pair reads as one code point, so only a lone half matches.
const LONE_SURROGATE = /\p{Surrogate}/u

/**
 * What makes a string unstorable as JSON text on some driver, or null. Both
 * are refused on every driver alike, so SQLite and PostgreSQL answer the same:
 * PostgreSQL's jsonb cannot hold U+0000, and it refuses a `\\ud800` escape
 * without its pair (a lone surrogate is not a Unicode character; SQLite would
 * keep it, and a reader in another language could not decode it).
 */
export function textIssue(text: string): string | null {
  if (text.includes('\u0000')) return 'a NUL character (\\u0000), which cannot be stored'
  if (LONE_SURROGATE.test(text)) {
    return 'a lone UTF-16 surrogate (\\ud800-\\udfff without its pair), which is not valid Unicode'
  }
  return null
}

function walk(value: unknown, path: string, seen: Set<object>, depth: number): FieldIssue | null {
  if (value === null) return null
  switch (typeof value) {
    case 'string': {
      const problem = textIssue(value)
      return problem ? { path, message: `contains ${problem}` } : null
    }
    case 'boolean':
      return null
    case 'number':
      return Number.isFinite(value) ? null : { path, message: `${value} is not a JSON number` }
    case 'undefined':
      return { path, message: 'undefined is not JSON (use null, or leave the key out)' }
    case 'object':
      break
    default:
      return { path, message: `a ${typeof value} is not JSON` }
  }
  const obj = value as object
  if (depth >= MAX_JSON_DEPTH) return { path, message: `nests deeper than ${MAX_JSON_DEPTH} levels` }
  if (seen.has(obj)) return { path, message: 'contains a circular reference' }
  seen.add(obj)
  try {
    if (Array.isArray(obj)) {
      for (let i = 0; i < obj.length; i++) {
        const issue = walk(obj[i], join(path, String(i)), seen, depth + 1)
        if (issue) return issue
      }
      return null
    }
    const proto = Object.getPrototypeOf(obj)
    if (proto !== Object.prototype && proto !== null) {
      const kind = (obj as { constructor?: { name?: string } }).constructor?.name ?? 'object'
      return {
        path,
        message: `a ${kind} is not plain JSON (convert it to a string, number, array or object)`,
      }
    }
    for (const [key, child] of Object.entries(obj)) {
      const problem = textIssue(key)
      if (problem) return { path: join(path, key), message: `a key contains ${problem}` }
      const issue = walk(child, join(path, key), seen, depth + 1)
      if (issue) return issue
    }
    return null
  } finally {
    seen.delete(obj)
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`
}
