/**
 * Executions are recorded outside Docket's own tables, in `test_executions`,
 * so a test can count how often each handler really ran, independently of
 * what Docket says about the job.
 */
import Database from 'better-sqlite3'
import pg from 'pg'

export interface Recorder {
  record(jobId: string, worker: string, startedAt: number, endedAt: number): Promise<void>
  /** Executions per job id. */
  counts(): Promise<Map<string, number>>
  rows(): Promise<{ jobId: string; worker: string; startedAt: number; endedAt: number }[]>
  close(): Promise<void>
}

export async function openRecorder(url: string): Promise<Recorder> {
  if (url.startsWith('postgres')) return openPgRecorder(url)
  return openSqliteRecorder(url.replace(/^file:/, ''))
}

const DDL = `CREATE TABLE IF NOT EXISTS test_executions (
  job_id TEXT NOT NULL, worker TEXT NOT NULL, started_at BIGINT NOT NULL, ended_at BIGINT NOT NULL)`

function openSqliteRecorder(path: string): Recorder {
  const db = new Database(path)
  db.pragma('busy_timeout = 10000')
  db.exec(DDL)
  const insert = db.prepare('INSERT INTO test_executions VALUES (?, ?, ?, ?)')
  return {
    async record(jobId, worker, startedAt, endedAt) {
      insert.run(jobId, worker, startedAt, endedAt)
    },
    async counts() {
      const rows = db.prepare('SELECT job_id, count(*) AS n FROM test_executions GROUP BY job_id').all() as {
        job_id: string
        n: number
      }[]
      return new Map(rows.map((r) => [r.job_id, r.n]))
    },
    async rows() {
      return (db.prepare('SELECT * FROM test_executions').all() as Record<string, unknown>[]).map(toRow)
    },
    async close() {
      db.close()
    },
  }
}

async function openPgRecorder(url: string): Promise<Recorder> {
  const parsed = new URL(url)
  const schema = parsed.searchParams.get('schema') ?? 'docket'
  parsed.searchParams.delete('schema')
  const pool = new pg.Pool({
    connectionString: parsed.toString(),
    max: 4,
    options: `-c search_path=${schema}`,
  })
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
  await pool.query(DDL)
  return {
    async record(jobId, worker, startedAt, endedAt) {
      await pool.query('INSERT INTO test_executions VALUES ($1, $2, $3, $4)', [
        jobId,
        worker,
        startedAt,
        endedAt,
      ])
    },
    async counts() {
      const { rows } = await pool.query(
        'SELECT job_id, count(*)::int AS n FROM test_executions GROUP BY job_id',
      )
      return new Map(rows.map((r) => [String(r.job_id), Number(r.n)]))
    },
    async rows() {
      return (await pool.query('SELECT * FROM test_executions')).rows.map(toRow)
    },
    async close() {
      await pool.end()
    },
  }
}

function toRow(r: Record<string, unknown>) {
  return {
    jobId: String(r.job_id),
    worker: String(r.worker),
    startedAt: Number(r.started_at),
    endedAt: Number(r.ended_at),
  }
}
