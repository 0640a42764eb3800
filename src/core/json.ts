import type { FieldIssue } from './errors.js'

/**
 * Finds the first place where `value` would not survive a JSON round trip
 * unchanged: undefined, functions, symbols, bigints, NaN and Infinity, class
 * instances such as Date or Map, and cycles. JSON.stringify silently drops or
 * converts most of these, which would store something other than what the
 * caller passed.
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

function walk(value: unknown, path: string, seen: Set<object>, depth: number): FieldIssue | null {
  if (value === null) return null
  switch (typeof value) {
    case 'string':
      // PostgreSQL's jsonb cannot hold U+0000; refuse it on every driver alike.
      return value.includes('\u0000')
        ? { path, message: 'contains a NUL character (\\u0000), which cannot be stored' }
        : null
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
      if (key.includes('\u0000'))
        return { path: join(path, key), message: 'a key contains a NUL character (\\u0000)' }
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
