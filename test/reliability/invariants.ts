/**
 * What must hold in Docket's tables whatever was done to it, read with plain
 * SQL from outside. Returns the violations found (empty when all is well).
 */
import type { Docket } from '../../src/index.js'
import type { Sql } from './support.js'

const CHECKS: [string, string][] = [
  [
    'an active job without a full lease',
    `status = 'active' AND (lease_token IS NULL OR lease_expires_at IS NULL OR worker_id IS NULL)`,
  ],
  [
    'a lease on a job that is not active',
    `status <> 'active' AND (lease_token IS NOT NULL OR lease_expires_at IS NOT NULL)`,
  ],
  [
    'an unknown status',
    `status NOT IN ('waiting','scheduled','blocked','held','active','completed','failed','cancelled')`,
  ],
  ['attempts out of range', `attempts < 0 OR attempts > max_attempts`],
  ['a finished job without a finish time', `status IN ('completed','failed') AND finished_at IS NULL`],
  ['progress out of range', `progress_percent < 0 OR progress_percent > 100`],
  ['a job of a queue that does not exist', `NOT EXISTS (SELECT 1 FROM queues q WHERE q.name = jobs.queue)`],
  ['a blocked job with nothing to wait for', `status = 'blocked' AND pending_deps <= 0`],
  [
    'a job without its added event',
    `NOT EXISTS (SELECT 1 FROM events e WHERE e.job_id = jobs.id AND e.kind = 'added')`,
  ],
]

export async function checkInvariants(docket: Docket, sql: Sql): Promise<string[]> {
  const violations: string[] = []
  for (const [what, where] of CHECKS) {
    const rows = await sql.all<{ id: string; status: string }>(`SELECT id, status FROM jobs WHERE ${where}`)
    for (const r of rows.slice(0, 5)) violations.push(`${what}: job ${r.id} (${r.status})`)
  }
  // The job's status is the last status its event log recorded.
  const trail = await sql.all<{ id: string; status: string; logged: string | null }>(
    `SELECT j.id, j.status, (SELECT e.status FROM events e WHERE e.job_id = j.id AND e.kind IN ('added','state')
       ORDER BY e.id DESC LIMIT 1) AS logged FROM jobs j`,
  )
  for (const r of trail.filter((t) => t.logged !== t.status).slice(0, 5))
    violations.push(`job ${r.id} is ${r.status} but its event log last says ${r.logged}`)
  // The API's counts are the table's counts.
  const counted = await docket.countJobs()
  const grouped = await sql.all<{ queue: string; status: string; n: number | string }>(
    'SELECT queue, status, count(*) AS n FROM jobs GROUP BY queue, status',
  )
  for (const g of grouped) {
    const api = counted[g.queue]?.[g.status as keyof (typeof counted)[string]]
    if (api !== Number(g.n)) violations.push(`queue ${g.queue}: ${g.status} counted ${api}, table has ${g.n}`)
  }
  // A batch's counts are its jobs'.
  for (const { id } of await sql.all<{ id: string }>('SELECT id FROM batches')) {
    const batch = await docket.getBatch(id)
    const rows = await sql.all<{ status: string; n: number | string }>(
      'SELECT status, count(*) AS n FROM jobs WHERE batch_id = ? GROUP BY status',
      [id],
    )
    for (const r of rows)
      if (batch.counts[r.status as keyof typeof batch.counts] !== Number(r.n))
        violations.push(
          `batch ${id}: ${r.status} counted ${batch.counts[r.status as keyof typeof batch.counts]}, jobs ${r.n}`,
        )
  }
  return violations
}
