/**
 * The job-list query, shared by both drivers: filters, then keyset
 * pagination on (sort column, id). Sort columns come from a whitelist and
 * each has an index, so a page costs the same on page 1 and page 1,000.
 */
import { SORT_COLUMNS } from './rows.js'
import type { ListJobsParams } from './store.js'

export interface BuiltQuery {
  sql: string
  values: unknown[]
}

/**
 * `placeholder(i)` renders the i-th (1-based) bind parameter; `encodeTime`
 * turns a cursor's epoch-ms value into the driver's time encoding.
 */
export function buildListJobsQuery(
  p: ListJobsParams,
  placeholder: (i: number) => string,
  encodeTime: (ms: number) => unknown,
): BuiltQuery {
  const where: string[] = []
  const values: unknown[] = []
  const bind = (value: unknown): string => {
    values.push(value)
    return placeholder(values.length)
  }
  if (p.queue !== undefined) where.push(`queue = ${bind(p.queue)}`)
  if (p.type !== undefined) where.push(`type = ${bind(p.type)}`)
  if (p.owner !== undefined) where.push(`owner = ${bind(p.owner)}`)
  if (p.batchId !== undefined) where.push(`batch_id = ${bind(p.batchId)}`)
  if (p.statuses && p.statuses.length > 0)
    where.push(`status IN (${p.statuses.map((s) => bind(s)).join(', ')})`)

  const column = SORT_COLUMNS[p.sort]
  const dir = p.order === 'asc' ? 'ASC' : 'DESC'
  if (p.after) {
    const value = p.sort === 'priority' ? p.after.value : encodeTime(p.after.value)
    const op = p.order === 'asc' ? '>' : '<'
    where.push(`(${column}, id) ${op} (${bind(value)}, ${bind(p.after.id)})`)
  }
  const sql = `SELECT * FROM jobs ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY ${column} ${dir}, id ${dir} LIMIT ${bind(p.limit)}`
  return { sql, values }
}
