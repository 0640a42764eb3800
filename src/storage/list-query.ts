/**
 * The job-list query, shared by both drivers: filters, then keyset
 * pagination on (sort column, id). Sort columns come from a whitelist and
 * each has an index, so a page costs the same on page 1 and page 1,000.
 *
 * What differs between the drivers (how an id range, a text search or a
 * condition on the payload reads in SQL) is a `ListDialect`; every value the
 * caller gave reaches the statement as a bind parameter, never as text.
 */
import type { IdMatch, JsonCondition } from '../core/job-search.js'
import { SORT_COLUMNS } from './rows.js'
import type { JobFilter, ListJobsParams } from './store.js'

export interface BuiltQuery {
  sql: string
  values: unknown[]
}

/** Adds a value to the statement's parameters and returns its placeholder. */
export type Bind = (value: unknown) => string

export interface ListDialect {
  /** Renders the i-th (1-based) bind parameter. */
  placeholder(i: number): string
  /** Turns a cursor's epoch-ms value into the driver's time encoding. */
  encodeTime(ms: number): unknown
  /** The fingerprint of the job's last error (migration error_fingerprints indexes it where last_error is set). */
  errorFingerprint: string
  /** True when the job's id is in the match's range, or ends with its short id. */
  idMatches(m: IdMatch, bind: Bind): string
  /** True when the payload's JSON or the last error's message contains `text`, case-insensitively. */
  textMatches(text: string, bind: Bind): string
  /** True when the payload satisfies the condition (core/job-search.ts says what that means). */
  jsonCondition(c: JsonCondition, bind: Bind): string
}

function filterClauses(p: JobFilter, d: ListDialect, bind: Bind): string[] {
  const where: string[] = []
  if (p.queue !== undefined) where.push(`queue = ${bind(p.queue)}`)
  if (p.type !== undefined) where.push(`type = ${bind(p.type)}`)
  if (p.owner !== undefined) where.push(`owner = ${bind(p.owner)}`)
  if (p.batchId !== undefined) where.push(`batch_id = ${bind(p.batchId)}`)
  // `last_error IS NOT NULL` lets the planner use the partial index on the fingerprint.
  if (p.fingerprint !== undefined)
    where.push(`last_error IS NOT NULL AND ${d.errorFingerprint} = ${bind(p.fingerprint)}`)
  if (p.statuses && p.statuses.length > 0)
    where.push(`status IN (${p.statuses.map((s) => bind(s)).join(', ')})`)
  if (p.id) where.push(d.idMatches(p.id, bind))
  if (p.search) {
    // Bind in the order the placeholders appear: SQLite's `?` are positional.
    const id = p.search.id ? d.idMatches(p.search.id, bind) : null
    const text = d.textMatches(p.search.text, bind)
    where.push(id ? `(${id} OR ${text})` : text)
  }
  for (const c of p.where ?? []) where.push(d.jsonCondition(c, bind))
  return where
}

function binder(d: ListDialect): { values: unknown[]; bind: Bind } {
  const values: unknown[] = []
  return {
    values,
    bind: (value) => {
      values.push(value)
      return d.placeholder(values.length)
    },
  }
}

const whereSql = (clauses: string[]) => (clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '')

export function buildListJobsQuery(p: ListJobsParams, d: ListDialect): BuiltQuery {
  const { values, bind } = binder(d)
  const where = filterClauses(p, d, bind)
  const column = SORT_COLUMNS[p.sort]
  const dir = p.order === 'asc' ? 'ASC' : 'DESC'
  if (p.after) {
    const value = p.sort === 'priority' ? p.after.value : d.encodeTime(p.after.value)
    const op = p.order === 'asc' ? '>' : '<'
    where.push(`(${column}, id) ${op} (${bind(value)}, ${bind(p.after.id)})`)
  }
  const sql = `SELECT * FROM jobs ${whereSql(where)}
    ORDER BY ${column} ${dir}, id ${dir} LIMIT ${bind(p.limit)}`
  return { sql, values }
}

/** Counts the jobs matching the filter, stopping after `upTo` of them (the column is `n`). */
export function buildCountJobsQuery(p: JobFilter, d: ListDialect, upTo: number): BuiltQuery {
  const { values, bind } = binder(d)
  const where = filterClauses(p, d, bind)
  return {
    sql: `SELECT count(*) AS n FROM (SELECT 1 FROM jobs ${whereSql(where)} LIMIT ${bind(upTo)}) AS matching`,
    values,
  }
}

/** The distinct (queue, type) pairs among the newest `sample` jobs, `owner`'s only when given. */
export function buildRecentQueueTypesQuery(owner: string | null, sample: number, d: ListDialect): BuiltQuery {
  const { values, bind } = binder(d)
  const where = owner === null ? '' : `WHERE owner = ${bind(owner)}`
  return {
    sql: `SELECT DISTINCT queue, type FROM
      (SELECT queue, type FROM jobs ${where} ORDER BY created_at DESC, id DESC LIMIT ${bind(sample)}) AS recent
      ORDER BY queue, type`,
    values,
  }
}
