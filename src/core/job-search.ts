/**
 * What a job list's `id`, `search` and `where` options mean, decided here once
 * and turned into SQL by each driver (with bind parameters only: nothing the
 * caller typed is ever part of a statement's text).
 *
 * - `id`: a full job id, its first 6 or more characters, or the 8-character
 *   short id the dashboard shows (the id's last 8 characters).
 * - `search`: free text. A job matches when its id starts with the text (or
 *   ends with it, for an 8-character short id), or its payload's JSON or its
 *   last error's message contains it, case-insensitively.
 * - `where`: conditions on the payload, joined by `and`:
 *
 *       payload.customerId = 42 and payload.user.email = "a@b.c"
 *
 *   A path is `payload` then one or more keys (letters, digits and `_`, not
 *   starting with a digit); an operator is one of = != < <= > >=; a value is a
 *   JSON literal: a number, a "double-quoted string", true, false or null. A
 *   condition matches only a value of the literal's JSON type (42 never equals
 *   "42"), strings compare by their bytes (UTF-8 order), `< <= > >=` take a
 *   number or a string, and `!= null` means "present and not null". A path
 *   that is missing matches nothing.
 */
import { invalidArgument } from './errors.js'

// With the `u` flag a surrogate pair reads as one code point, so only a lone half matches.
const LONE_SURROGATE = /\p{Surrogate}/u

/** The ids an `id` option (or an id-like search) matches: the range [from, to], or the short id. */
export interface IdMatch {
  from: string
  to: string
  /** The last 8 characters to match too, when the text was exactly 8 hex digits. */
  shortId: string | null
}

export interface SearchTerm {
  /** The text to find in the payload and the error message, as given (trimmed). */
  text: string
  /** Set when the text could be (part of) a job id. */
  id: IdMatch | null
}

export type JsonScalar = number | string | boolean | null
export const COMPARISONS = ['=', '!=', '<', '<=', '>', '>='] as const
export type Comparison = (typeof COMPARISONS)[number]

export interface JsonCondition {
  /** Keys below `payload`, each a safe identifier. */
  path: string[]
  op: Comparison
  value: JsonScalar
}

export const SEARCH_MAX = 200
/** A list's `count` stops here: past it, the answer is "at least this many". */
export const COUNT_LIMIT = 10_000
/** Filter suggestions come from this many of the newest jobs the caller may see. */
export const SUGGESTION_SAMPLE = 10_000
export const WHERE_MAX = 2000
const MAX_CONDITIONS = 10
const MAX_DEPTH = 10
const MIN_ID_PREFIX = 6
const SHORT_ID_LENGTH = 8
const ZERO_ID = '00000000-0000-0000-0000-000000000000'
const FULL_ID = 'ffffffff-ffff-ffff-ffff-ffffffffffff'
const DASH_AFTER = [8, 12, 16, 20]

/** The ids `text` can stand for, or null when it cannot be part of a job id. */
export function idFragment(text: string): IdMatch | null {
  const lower = text.toLowerCase().replace(/-+$/, '')
  const hex = lower.replaceAll('-', '')
  if (!/^[0-9a-f]+$/.test(hex) || hex.length < MIN_ID_PREFIX || hex.length > 32) return null
  const prefix = canonicalPrefix(hex)
  // Dashes, when given, must be where a UUID has them.
  if (lower.includes('-') && prefix !== lower) return null
  return {
    from: prefix + ZERO_ID.slice(prefix.length),
    to: prefix + FULL_ID.slice(prefix.length),
    shortId: hex.length === SHORT_ID_LENGTH && !lower.includes('-') ? hex : null,
  }
}

/** `hex` with dashes where a UUID has them: `0190ab123` -> `0190ab12-3`. */
function canonicalPrefix(hex: string): string {
  let out = ''
  for (let i = 0; i < hex.length; i++) out += (DASH_AFTER.includes(i) ? '-' : '') + hex[i]
  return out
}

/** The `id` option: a job id, 6+ leading characters of one, or a short id. */
export function parseIdOption(text: string): IdMatch {
  const match = idFragment(text.trim())
  if (!match) {
    const why = `expected a job id, its first ${MIN_ID_PREFIX} or more characters, or the ${SHORT_ID_LENGTH}-character short id`
    throw invalidArgument(`invalid id: ${why}`, [{ path: 'id', message: why }])
  }
  return match
}

export function parseSearch(text: string): SearchTerm {
  const trimmed = text.trim()
  const fail = (why: string) => invalidArgument(`invalid search: ${why}`, [{ path: 'search', message: why }])
  if (trimmed.length === 0) throw fail('expected some text')
  if (trimmed.length > SEARCH_MAX) throw fail(`expected at most ${SEARCH_MAX} characters`)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) throw fail('control characters are not allowed')
  if (LONE_SURROGATE.test(trimmed))
    throw fail('a lone UTF-16 surrogate (\\ud800-\\udfff without its pair) is not text')
  return { text: trimmed, id: idFragment(trimmed) }
}

/** The LIKE pattern that finds `text` anywhere, with `\` escaping LIKE's own characters. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, '\\$&')}%`
}

const KEY = /[A-Za-z_][A-Za-z0-9_]{0,63}/y
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
// biome-ignore lint/suspicious/noControlCharactersInRegex: a JSON string has no raw control characters
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y
const OPERATOR = /!=|<=|>=|=|<|>/y
const WORD = /[A-Za-z_][A-Za-z0-9_]*/y

/** Parses a `where` filter into conditions; a malformed one is INVALID_ARGUMENT naming what and where. */
export function parseWhere(text: string): JsonCondition[] {
  if (text.length > WHERE_MAX) throw whereError(`expected at most ${WHERE_MAX} characters`)
  const r = new Reader(text)
  const conditions: JsonCondition[] = []
  do {
    if (conditions.length === MAX_CONDITIONS)
      throw whereError(`expected at most ${MAX_CONDITIONS} conditions`)
    conditions.push(readCondition(r))
  } while (r.word('and'))
  r.skipSpace()
  if (!r.done()) throw r.error('expected `and` or the end of the filter')
  return conditions
}

function readCondition(r: Reader): JsonCondition {
  r.skipSpace()
  const root = r.match(WORD)
  if (root !== 'payload')
    throw r.error('expected a path starting with `payload.`, e.g. payload.customerId', root)
  const path: string[] = []
  while (r.char('.')) {
    const key = r.match(KEY)
    if (key === null)
      throw r.error('expected a key after `.`: letters, digits and _, not starting with a digit')
    path.push(key)
  }
  if (path.length === 0) throw r.error('expected `.` and a key after payload, e.g. payload.customerId')
  if (path.length > MAX_DEPTH) throw r.error(`expected a path at most ${MAX_DEPTH} keys deep`)
  r.skipSpace()
  const op = r.match(OPERATOR) as Comparison | null
  if (op === null)
    throw r.error(`expected an operator (${COMPARISONS.join(' ')}) after payload.${path.join('.')}`)
  r.skipSpace()
  const value = readValue(r)
  if (op !== '=' && op !== '!=' && typeof value !== 'number' && typeof value !== 'string')
    throw r.error(`${op} needs a number or a string, not ${JSON.stringify(value)}`)
  return { path, op, value }
}

function readValue(r: Reader): JsonScalar {
  const string = r.match(STRING)
  if (string !== null) {
    const value = JSON.parse(string) as string
    if (value.includes('\u0000')) throw r.error('a string may not contain the NUL character (\\u0000)')
    // As no stored string may (core/json.ts): PostgreSQL's jsonb refuses one, SQLite would compare it.
    if (LONE_SURROGATE.test(value))
      throw r.error('a string may not contain a lone UTF-16 surrogate (\\ud800-\\udfff without its pair)')
    return value
  }
  const number = r.match(NUMBER)
  if (number !== null) {
    const n = Number(number)
    if (!Number.isFinite(n)) throw r.error(`the number ${number} is out of range`)
    return n
  }
  for (const [word, value] of [
    ['true', true],
    ['false', false],
    ['null', null],
  ] as const)
    if (r.word(word)) return value
  throw r.error('expected a value: a number, a "double-quoted string", true, false or null')
}

function whereError(why: string) {
  return invalidArgument(`invalid where: ${why}`, [{ path: 'where', message: why }])
}

/** A cursor over the filter's text that names the character where parsing stopped. */
class Reader {
  private at = 0
  constructor(private readonly text: string) {}

  done(): boolean {
    return this.at >= this.text.length
  }
  skipSpace(): void {
    while (!this.done() && /\s/.test(this.text[this.at]!)) this.at++
  }
  char(c: string): boolean {
    if (this.text[this.at] !== c) return false
    this.at++
    return true
  }
  match(pattern: RegExp): string | null {
    pattern.lastIndex = this.at
    const m = pattern.exec(this.text)
    if (!m) return null
    this.at += m[0].length
    return m[0]
  }
  /** Reads `word` (case-insensitive, whole word, after optional spaces); false, moving nothing, if absent. */
  word(word: string): boolean {
    const start = this.at
    this.skipSpace()
    const found = this.match(WORD)
    if (found !== null && found.toLowerCase() === word) return true
    this.at = start
    return false
  }
  error(why: string, found?: string | null) {
    const near = found ?? this.text.slice(this.at, this.at + 20)
    const where = this.done() && !found ? 'at the end' : `at character ${this.at + 1 - (found?.length ?? 0)}`
    return whereError(`${why} (${where}${near ? `, near '${near}'` : ''})`)
  }
}

/** The parsed form of a list's `id`, `search` and `where` options (a blank search is no search). */
export function jobMatch(options: { id?: string; search?: string; where?: string }): {
  id?: IdMatch
  search?: SearchTerm
  where?: JsonCondition[]
} {
  return {
    ...(options.id === undefined ? {} : { id: parseIdOption(options.id) }),
    ...(options.search === undefined || options.search.trim() === ''
      ? {}
      : { search: parseSearch(options.search) }),
    ...(options.where === undefined ? {} : { where: parseWhere(options.where) }),
  }
}

/**
 * What a list with `search` or `where` that ran past its time budget
 * (DocketOptions.searchTimeoutMs) is told, on either driver: the option, and
 * how to make the search cheaper.
 */
export function searchTimedOut(what: 'search' | 'where', timeoutMs: number) {
  const why = `the ${what} ran longer than its time budget of ${timeoutMs} ms (searchTimeoutMs) and was stopped: narrow it with queue, status, type or owner, or search for a longer text`
  return invalidArgument(`invalid ${what}: ${why}`, [{ path: what, message: why }])
}

/** The option a list searches with, for a search's time budget: null when it has neither. */
export const searchOption = (filter: { search?: unknown; where?: unknown[] }): 'search' | 'where' | null =>
  filter.search !== undefined
    ? 'search'
    : filter.where !== undefined && filter.where.length > 0
      ? 'where'
      : null

/** A page's count of every job the filter matches: exact, or "at least `value`" past COUNT_LIMIT. */
export interface MatchCount {
  value: number
  exact: boolean
}

export function matchCount(counted: number): MatchCount {
  return { value: Math.min(counted, COUNT_LIMIT), exact: counted <= COUNT_LIMIT }
}
