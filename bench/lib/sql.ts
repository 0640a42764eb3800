/** Plain SQL on a benchmark's database from outside Docket: the tests' openSql, and a time reader. */
export { openSql, type Sql } from '../../test/support/sql.js'

/** A time column as epoch ms (PostgreSQL gives Dates, SQLite integers). */
export const ms = (v: unknown): number =>
  v instanceof Date ? v.getTime() : typeof v === 'string' ? Date.parse(v) : Number(v)
