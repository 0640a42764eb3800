/**
 * Every handler run in the reliability suite is written to its own table,
 * `reliability_executions`, outside Docket's: a row when the handler starts,
 * its end time when the handler finishes. Executions are then counted
 * independently of what Docket says about completions.
 *
 * Writes are retried for a while, so a database restart does not lose a record;
 * a row's id is made here, so a retried insert cannot count a run twice.
 */
import { randomUUID } from 'node:crypto'
import Database from 'better-sqlite3'
import pg from 'pg'

export interface ExecutionRow {
  id: string
  jobId: string
  worker: string
  attempt: number
  startedAt: number
  endedAt: number | null
}

export interface Executions {
  /** Records the start of a run; returns its row id. */
  start(jobId: string, worker: string, attempt: number): Promise<string>
  end(id: string): Promise<void>
  rows(): Promise<ExecutionRow[]>
  close(): Promise<void>
}

const toRow = (r: Record<string, unknown>): ExecutionRow => ({
  id: String(r.id),
  jobId: String(r.job_id),
  worker: String(r.worker),
  attempt: Number(r.attempt),
  startedAt: Number(r.started_at),
  endedAt: r.ended_at === null ? null : Number(r.ended_at),
})

async function retrying<T>(fn: () => Promise<T> | T, forMs = 30_000): Promise<T> {
  const deadline = Date.now() + forMs
  for (;;) {
    try {
      return await fn()
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

export async function openExecutions(url: string): Promise<Executions> {
  if (url.startsWith('postgres')) return openPg(url)
  const db = new Database(url.replace(/^file:/, ''))
  db.pragma('busy_timeout = 10000')
  db.exec(`CREATE TABLE IF NOT EXISTS reliability_executions (
    id TEXT PRIMARY KEY, job_id TEXT NOT NULL, worker TEXT NOT NULL,
    attempt INTEGER NOT NULL, started_at INTEGER NOT NULL, ended_at INTEGER)`)
  const insert = db.prepare(
    'INSERT OR IGNORE INTO reliability_executions (id, job_id, worker, attempt, started_at) VALUES (?, ?, ?, ?, ?)',
  )
  const finish = db.prepare('UPDATE reliability_executions SET ended_at = ? WHERE id = ?')
  return {
    async start(jobId, worker, attempt) {
      const id = randomUUID()
      const at = Date.now()
      await retrying(() => insert.run(id, jobId, worker, attempt, at))
      return id
    },
    end: (id) => retrying(() => void finish.run(Date.now(), id)),
    async rows() {
      return (
        db.prepare('SELECT * FROM reliability_executions ORDER BY started_at').all() as Record<
          string,
          unknown
        >[]
      ).map(toRow)
    },
    async close() {
      db.close()
    },
  }
}

async function openPg(url: string): Promise<Executions> {
  const parsed = new URL(url)
  const schema = parsed.searchParams.get('schema') ?? 'docket'
  parsed.searchParams.delete('schema')
  const pool = new pg.Pool({
    connectionString: parsed.toString(),
    max: 3,
    options: `-c search_path=${schema}`,
  })
  // A restart of the database must not crash the process through an idle client.
  pool.on('error', () => {})
  await retrying(async () => {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
    await pool.query(`CREATE TABLE IF NOT EXISTS reliability_executions (
      id text PRIMARY KEY, job_id text NOT NULL, worker text NOT NULL,
      attempt int NOT NULL, started_at bigint NOT NULL, ended_at bigint)`)
  }).catch(async (error) => {
    // Two processes creating the table at once: one of them loses the race, and the table is there.
    if (!String(error?.message).includes('already exists')) throw error
  })
  return {
    async start(jobId, worker, attempt) {
      const id = randomUUID()
      const at = Date.now()
      await retrying(() =>
        pool.query(
          `INSERT INTO reliability_executions (id, job_id, worker, attempt, started_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (id) DO NOTHING`,
          [id, jobId, worker, attempt, at],
        ),
      )
      return id
    },
    async end(id) {
      const at = Date.now()
      await retrying(() =>
        pool.query('UPDATE reliability_executions SET ended_at = $1 WHERE id = $2', [at, id]),
      )
    },
    async rows() {
      return (await pool.query('SELECT * FROM reliability_executions ORDER BY started_at')).rows.map(toRow)
    },
    async close() {
      await pool.end()
    },
  }
}
