/**
 * Plain SQL on a Docket database from outside Docket (a SQLite file, or a
 * PostgreSQL schema given as the URL's `?schema=`): the reliability tests
 * check Docket's tables and their executions ledger with it, and the flow
 * benchmark reads what its processes did.
 */
import Database from 'better-sqlite3'
import pg from 'pg'

export interface Sql {
  /** `?` placeholders on both drivers. */
  all<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>
  close(): Promise<void>
}

export async function openSql(url: string): Promise<Sql> {
  if (!url.startsWith('postgres')) {
    const db = new Database(url.replace(/^file:/, ''))
    db.pragma('busy_timeout = 10000')
    return {
      async all<T>(sql: string, params: unknown[] = []) {
        const st = db.prepare(sql)
        if (st.reader) return st.all(...params) as T[]
        st.run(...params)
        return []
      },
      async close() {
        db.close()
      },
    }
  }
  const parsed = new URL(url)
  const schema = parsed.searchParams.get('schema') ?? 'docket'
  parsed.searchParams.delete('schema')
  const pool = new pg.Pool({
    connectionString: parsed.toString(),
    max: 1,
    options: `-c search_path=${schema}`,
  })
  pool.on('error', () => {})
  return {
    async all<T>(sql: string, params: unknown[] = []) {
      let n = 0
      return (
        await pool.query(
          sql.replace(/\?/g, () => `$${++n}`),
          params,
        )
      ).rows as T[]
    },
    async close() {
      await pool.end()
    },
  }
}

/** A time column as epoch ms (PostgreSQL gives Dates, SQLite integers). */
export const ms = (v: unknown): number =>
  v instanceof Date ? v.getTime() : typeof v === 'string' ? Date.parse(v) : Number(v)
