/**
 * The claim of a queue with groups in play on SQLite (per-group concurrency,
 * fair turns, a rate limit per group), inside the claim's IMMEDIATE
 * transaction. The same rule as PostgreSQL's claim_grouped (migration 0015):
 * each group may start at most its limit less its active jobs (and, per
 * group, its rate budget less its starts in the window); jobs without a group
 * are one group '' that no group limit applies to; fair claims take the first
 * ready job of each group before anyone's second, least recently served group first.
 */
import type { SqliteContext } from './db.js'

export interface GroupedQueue {
  name: string
  ordering: 'priority' | 'fifo'
  rate_max: number | null
  rate_interval_ms: number | null
  rate_per: string | null
  group_concurrency: number | null
  fair: number
}

export const hasGroupRules = (q: GroupedQueue): boolean =>
  q.group_concurrency !== null || q.fair === 1 || q.rate_per === 'group'

/** Ids of the jobs to start, at most `take`, in the order they are to be leased. PostgreSQL twin: src/storage/postgres/functions/claim_grouped.sql. */
export function pickGrouped(
  ctx: SqliteContext,
  q: GroupedQueue,
  caps: string[],
  take: number,
  now: number,
): string[] {
  const ratePerGroup = q.rate_per === 'group' && q.rate_max !== null
  if (ratePerGroup)
    ctx
      .stmt('DELETE FROM rate_limit_starts WHERE queue = ? AND at <= ?')
      .run(q.name, now - q.rate_interval_ms!)
  if (q.fair === 1) return pickFair(ctx, q, caps, take, now, ratePerGroup)
  return pickInOrder(ctx, q, caps, take, now, ratePerGroup)
}

const READY_OF_GROUP = `j.queue = @queue AND j.status IN ('waiting','scheduled') AND j.run_at <= @now
  AND (j.expires_at IS NULL OR j.expires_at > @now)
  AND (j.capabilities IS NULL OR NOT EXISTS (
    SELECT 1 FROM json_each(j.capabilities) c WHERE c.value NOT IN (SELECT value FROM json_each(@caps))))`

/** A group's ready job after skipping @skip, in the queue's order; '' is the jobs without a group (no index of their own). */
const GROUP_READY = {
  priority: `SELECT id FROM jobs j INDEXED BY jobs_group_ready_priority WHERE ${READY_OF_GROUP} AND j.group_key = @g
    ORDER BY j.priority DESC, j.run_at, j.id LIMIT 1 OFFSET @skip`,
  fifo: `SELECT id FROM jobs j INDEXED BY jobs_group_ready_fifo WHERE ${READY_OF_GROUP} AND j.group_key = @g
    ORDER BY j.run_at, j.id LIMIT 1 OFFSET @skip`,
  ungroupedPriority: `SELECT id FROM jobs j WHERE ${READY_OF_GROUP} AND j.group_key IS NULL
    ORDER BY j.priority DESC, j.run_at, j.id LIMIT 1 OFFSET @skip`,
  ungroupedFifo: `SELECT id FROM jobs j WHERE ${READY_OF_GROUP} AND j.group_key IS NULL
    ORDER BY j.run_at, j.id LIMIT 1 OFFSET @skip`,
}

/** The queue's ready jobs in its order, by the claim index, with their group ('' for none). */
const IN_ORDER = {
  priority: `SELECT id, coalesce(group_key, '') AS g FROM jobs j INDEXED BY jobs_claim_priority
    WHERE ${READY_OF_GROUP} ORDER BY j.priority DESC, j.run_at, j.id`,
  fifo: `SELECT id, coalesce(group_key, '') AS g FROM jobs j INDEXED BY jobs_claim_fifo
    WHERE ${READY_OF_GROUP} ORDER BY j.run_at, j.id`,
}

/**
 * How many more jobs each group may start now: its limit less its active
 * jobs, its rate budget less its recent starts; jobs without a group ('')
 * only by the rate budget.
 */
function groupRoom(
  ctx: SqliteContext,
  q: GroupedQueue,
  take: number,
  ratePerGroup: boolean,
): (g: string) => number {
  const counts = (sql: string) =>
    new Map((ctx.stmt(sql).all(q.name) as { g: string; n: number }[]).map((r) => [r.g, r.n]))
  const active =
    q.group_concurrency === null
      ? new Map<string, number>()
      : counts(
          `SELECT coalesce(group_key, '') AS g, count(*) AS n FROM jobs WHERE queue = ? AND status = 'active' GROUP BY 1`,
        )
  const recent = ratePerGroup
    ? counts('SELECT group_key AS g, count(*) AS n FROM rate_limit_starts WHERE queue = ? GROUP BY 1')
    : new Map<string, number>()
  return (g) => {
    let room = q.group_concurrency === null || g === '' ? take : q.group_concurrency - (active.get(g) ?? 0)
    if (ratePerGroup) room = Math.min(room, q.rate_max! - (recent.get(g) ?? 0))
    return room
  }
}

/**
 * The pick of a queue with group limits that is not fair: its ready jobs in
 * the queue's order, passing over those of groups with no room left. The
 * walk stops once it has `take` jobs, so a claim reads the jobs ahead of the
 * ones it takes (those of full groups among them), not the whole backlog.
 * PostgreSQL twin: src/storage/postgres/functions/pick_in_order.sql.
 */
function pickInOrder(
  ctx: SqliteContext,
  q: GroupedQueue,
  caps: string[],
  take: number,
  now: number,
  ratePerGroup: boolean,
): string[] {
  const roomOf = groupRoom(ctx, q, take, ratePerGroup)
  const taken = new Map<string, number>()
  const picked: string[] = []
  const rows = ctx
    .stmt(IN_ORDER[q.ordering])
    .iterate({ queue: q.name, now, caps: JSON.stringify(caps) }) as IterableIterator<{
    id: string
    g: string
  }>
  for (const { id, g } of rows) {
    const n = taken.get(g) ?? 0
    if (n >= roomOf(g)) continue
    taken.set(g, n + 1)
    picked.push(id)
    if (picked.length >= take) break
  }
  return picked
}

/** Turn rows read at a time: few first (most claims stop at the first groups), more once groups are passed over. */
const FIRST_PAGE = 8
const NEXT_PAGE = 200

/**
 * The fair pick (migration 0012): round 1 takes the first ready job of each
 * group in turn order (least recently served first) while the group has room
 * (its limit less its active jobs, its rate budget less its starts); later
 * rounds take the groups' next jobs, only once round 1 ran out of groups. A
 * group found with nothing waiting is forgotten (the triggers bring it back
 * with its next job); the claim holds the write lock, so no add comes between.
 * PostgreSQL twin: src/storage/postgres/functions/pick_fair.sql, with group_ready_job.sql for each group's first ready job.
 */
function pickFair(
  ctx: SqliteContext,
  q: GroupedQueue,
  caps: string[],
  take: number,
  now: number,
  ratePerGroup: boolean,
): string[] {
  const roomOf = groupRoom(ctx, q, take, ratePerGroup)
  const args = { queue: q.name, now, caps: JSON.stringify(caps) }
  const probe = (g: string, skip: number) => {
    const sql =
      g === ''
        ? GROUP_READY[q.ordering === 'priority' ? 'ungroupedPriority' : 'ungroupedFifo']
        : GROUP_READY[q.ordering]
    return (ctx.stmt(sql).get({ ...args, g, skip }) as { id: string } | undefined)?.id
  }
  const picked: string[] = []
  let more: { g: string; room: number }[] = []
  const forget = ctx.stmt(
    `DELETE FROM group_turns WHERE queue = @queue AND group_key = @g AND NOT EXISTS (
       SELECT 1 FROM jobs WHERE queue = @queue AND coalesce(group_key, '') = @g AND status IN ('waiting','scheduled'))`,
  )
  // The turn order a page at a time (a statement is not kept open across the probes and deletes).
  let after: { served: number; rowid: number } | null = null
  let size = Math.max(FIRST_PAGE, take)
  while (picked.length < take) {
    const page = ctx
      .stmt(
        `SELECT group_key AS g, served, rowid FROM group_turns WHERE queue = @queue
           AND (@served IS NULL OR (served, rowid) > (@served, @rowid))
         ORDER BY served, rowid LIMIT @size`,
      )
      .all({ queue: q.name, served: after?.served ?? null, rowid: after?.rowid ?? null, size }) as {
      g: string
      served: number
      rowid: number
    }[]
    for (const { g } of page) {
      if (picked.length >= take) break
      const room = roomOf(g)
      if (room <= 0) continue
      const id = probe(g, 0)
      if (id === undefined) {
        forget.run({ queue: q.name, g })
        continue
      }
      picked.push(id)
      if (room > 1) more.push({ g, room: room - 1 })
    }
    if (page.length < size) break
    const last = page[page.length - 1]!
    after = { served: last.served, rowid: last.rowid }
    size = NEXT_PAGE
  }
  for (let round = 1; picked.length < take && more.length > 0; round++) {
    const next: typeof more = []
    for (const { g, room } of more) {
      if (picked.length >= take) break
      const id = probe(g, round)
      if (id === undefined) continue
      picked.push(id)
      if (room > 1) next.push({ g, room: room - 1 })
    }
    more = next
  }
  return picked
}

/**
 * A fair queue's groups just served go to the back of the turn order, in the order they were served.
 * The turns of groups with new or returning jobs are kept by the triggers of migration 0012, whose
 * PostgreSQL twins are src/storage/postgres/functions/group_turns_added.sql, group_turns_ready.sql,
 * group_turns_queue_fair.sql and group_turn_unserved.sql.
 */
export function recordTurns(ctx: SqliteContext, q: GroupedQueue, groups: (string | null)[]): void {
  if (q.fair !== 1) return
  // Served turns count up from 1; groups not served yet sit below 0 (migration 0012).
  const upsert = ctx.stmt(
    `INSERT INTO group_turns (queue, group_key, served)
     VALUES (?, ?, (SELECT coalesce(max(served), 0) + 1 FROM group_turns WHERE served > 0))
     ON CONFLICT (queue, group_key) DO UPDATE SET served = excluded.served`,
  )
  for (const g of new Set(groups.map((x) => x ?? ''))) upsert.run(q.name, g)
}

/** The busiest groups of a queue (most active, then waiting jobs), only `owner`'s jobs when given. */
export function groupCounts(
  ctx: SqliteContext,
  queue: string,
  owner: string | null,
  limit: number,
): { group: string; active: number; waiting: number }[] {
  return ctx
    .stmt(
      `SELECT group_key AS "group", sum(status = 'active') AS active, sum(status <> 'active') AS waiting
       FROM jobs WHERE queue = @queue AND group_key IS NOT NULL AND status IN ('active','waiting','scheduled')
         AND (@owner IS NULL OR owner = @owner)
       GROUP BY group_key ORDER BY active DESC, waiting DESC, group_key LIMIT @limit`,
    )
    .all({ queue, owner, limit }) as { group: string; active: number; waiting: number }[]
}
