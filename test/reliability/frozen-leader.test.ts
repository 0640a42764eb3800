/**
 * A frozen maintenance leader: the leader process (a real worker process,
 * holding a job) is stopped with SIGSTOP in the middle of a maintenance pass,
 * right after it renewed leadership and before its writes. Another process
 * must recover the frozen leader's job, and the job of a worker SIGKILLed
 * meanwhile, once their leases expire (every process's maintenance pass
 * recovers expired leases, leader or not), and take leadership once the
 * leadership lease expires; both jobs run again elsewhere. Then the frozen
 * one gets SIGCONT and carries on with its pass under its old term: every one
 * of those late writes must be refused by the term fence, and no job may be
 * completed twice (Docket's event log and the executions ledger).
 *
 * Before leadership was a lease, PostgreSQL leadership was a session advisory
 * lock, held by the frozen process's open connection: nobody recovered
 * anything until it woke.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import type { LeaderTerm } from '../../src/core/types.js'
import { Docket } from '../../src/index.js'
import { openExecutions } from './executions.js'
import type { FencedReport } from './fixtures/worker.js'
import { checkInvariants } from './invariants.js'
import {
  completionsPerJob,
  DRIVERS,
  figure,
  freshTarget,
  killAllWorkers,
  LONG,
  openSql,
  type Sql,
  sleep,
  spawnWorker,
  type Target,
  until,
} from './support.js'

const LEASE_MS = 2_000
const INTERVAL_MS = 200
/** Maintenance's default leadership lease for this interval: max(3 × interval, 1 s). */
const LEADERSHIP_TTL_MS = Math.max(3 * INTERVAL_MS, 1_000)
/** The target: a job is recovered within one maintenance interval + 1 s of its lease expiry; npm test adds a margin for a loaded machine. */
const RECOVERY_BOUND_MS = INTERVAL_MS + 1_000 + (LONG ? 0 : 3_000)

interface LeaderRow {
  holder: string
  term: number
  expiresAt: number
}

for (const driver of DRIVERS) {
  describe(`reliability: a frozen maintenance leader [${driver}]`, () => {
    let target: Target | undefined
    let docket: Docket | undefined
    let sql: Sql | undefined
    const dir = mkdtempSync(join(tmpdir(), 'docket-frozen-'))
    after(async () => {
      await killAllWorkers()
      await sql?.close()
      await docket?.close()
      await target?.cleanup()
      rmSync(dir, { recursive: true, force: true })
    })

    it('SIGSTOPped mid-pass while it holds a job: another takes over, recovers its job and a killed worker’s; its late writes are refused', async () => {
      target = await freshTarget(driver)
      docket = await Docket.open(target.url)
      sql = await openSql(target.url)
      const executions = await openExecutions(target.url)
      await docket.createQueue({ name: 'frozen', maxAttempts: 10 })
      const leaderRow = async (): Promise<LeaderRow | undefined> => {
        const [row] = await sql!.all<{ holder: string; term: number; expires_at: unknown }>(
          `SELECT holder, term, expires_at FROM leader_leases WHERE name = 'maintenance'`,
        )
        return row && { holder: row.holder, term: Number(row.term), expiresAt: toMs(row.expires_at) }
      }
      const config = (id: string, concurrency: number, extra: { stallDir?: string } = {}) => ({
        url: target!.url,
        id,
        queues: ['frozen'],
        concurrency,
        leaseMs: LEASE_MS,
        workMs: [10, 50] as [number, number],
        pollMs: 100,
        maintenanceIntervalMs: INTERVAL_MS,
        ...extra,
      })
      const runningOn = (jobId: string, worker: string) =>
        until(
          async () => (await executions.rows()).some((r) => r.jobId === jobId && r.worker === worker),
          30_000,
          `${worker} to run job ${jobId}`,
        )

      // The leader, alone at first, so it leads maintenance; then it takes a long job.
      const leader = await spawnWorker(config('leader', 1, { stallDir: dir }))
      const reports: FencedReport[] = []
      leader.proc.on('message', (m) => {
        if (typeof m === 'object' && m !== null && 'fenced' in m) reports.push(m as FencedReport)
      })
      await until(async () => (await leaderRow())?.holder === 'leader', 30_000, 'the first worker to lead')
      const held = await docket.add('frozen', 'work', { workMsOn: { leader: 60_000 } })
      await runningOn(held.id, 'leader')
      // A worker that will be SIGKILLed while the leader is frozen, with a job of its own.
      const doomed = await spawnWorker(config('doomed', 1))
      const orphan = await docket.add('frozen', 'work', { workMsOn: { doomed: 60_000 } })
      await runningOn(orphan.id, 'doomed')
      const taker = await spawnWorker(config('taker', 2))
      const others = await docket.addMany(
        Array.from({ length: 20 }, (_, i) => ({ queue: 'frozen', type: 'work', payload: { i } })),
      )

      // Freeze the leader mid-pass: it stalls itself right after renewing leadership; SIGSTOP it there.
      writeFileSync(join(dir, 'arm'), '')
      await until(async () => existsSync(join(dir, 'stalled')), 10_000, 'the leader to reach its next pass')
      leader.proc.kill('SIGSTOP')
      const frozenAt = Date.now()
      const staleTerm = JSON.parse(readFileSync(join(dir, 'stalled'), 'utf8')) as LeaderTerm
      const frozenLease = await leaderRow()
      assert.equal(frozenLease?.holder, 'leader')
      assert.equal(frozenLease.term, staleTerm.term)
      const heldExpiry = (await docket.getJob(held.id)).lease!.expiresAt.getTime()
      // And a worker dies meanwhile.
      const orphanExpiry = (await docket.getJob(orphan.id)).lease!.expiresAt.getTime()
      await doomed.kill()

      let takeover: LeaderRow | undefined
      await until(
        async () => {
          const row = await leaderRow()
          if (row?.holder === 'taker') takeover ??= row
          return takeover !== undefined
        },
        30_000,
        'another process to take leadership while the leader is frozen',
      )
      const takenAt = Date.now()
      await runningOn(held.id, 'taker')
      await runningOn(orphan.id, 'taker')
      const recoveredAt = async (jobId: string) => {
        const events = (await docket!.getJob(jobId)).events
        const recovered = events.find((e) => e.kind === 'state' && e.status === 'waiting')
        assert.ok(recovered, `job ${jobId} has no recovery event`)
        return recovered.at.getTime()
      }
      const heldRecoveryMs = (await recoveredAt(held.id)) - heldExpiry
      const orphanRecoveryMs = (await recoveredAt(orphan.id)) - orphanExpiry
      await until(
        async () =>
          (await docket!.getJob(held.id)).status === 'completed' &&
          (await docket!.getJob(orphan.id)).status === 'completed',
        30_000,
        'the recovered jobs to complete elsewhere',
      )

      // Wake the frozen leader: its pass goes on under its old term.
      writeFileSync(join(dir, 'resume'), '')
      leader.proc.kill('SIGCONT')
      const frozenMs = Date.now() - frozenAt
      await until(
        async () => reports.some((r) => r.term === staleTerm.term),
        15_000,
        'the woken leader to attempt its stale writes',
      )
      await until(
        async () => (await docket!.countJobs('frozen')).frozen!.completed === others.length + 2,
        30_000,
        'every job to complete',
      )
      // Let the woken process run a few more passes as an ordinary follower.
      await sleep(5 * INTERVAL_MS)
      const afterWake = await leaderRow()
      const stops = await Promise.all([leader.stop(), taker.stop()])

      const stale = reports.filter((r) => r.term === staleTerm.term)
      const completions = await completionsPerJob(sql)
      const ids = [held.id, orphan.id, ...others.map((j) => j.id)]
      const doubled = ids.filter((id) => (completions.get(id) ?? 0) > 1).length
      const rows = await executions.rows()
      await executions.close()
      const finished = new Map(rows.filter((r) => r.endedAt !== null).map((r) => [r.id, r]))
      const heldJob = await docket.getJob(held.id)
      const heldRun = finished.get((heldJob.result as { run?: string }).run ?? '')
      const violations = await checkInvariants(docket, sql)

      figure('frozen-leader', {
        driver,
        leaseMs: LEASE_MS,
        intervalMs: INTERVAL_MS,
        leadershipTtlMs: LEADERSHIP_TTL_MS,
        frozenMs,
        takeoverAfterLeadershipExpiryMs: takeover!.expiresAt - LEADERSHIP_TTL_MS - frozenLease.expiresAt,
        takeoverAfterFreezeMs: takenAt - frozenAt,
        heldRecoveryAfterLeaseExpiryMs: heldRecoveryMs,
        killedRecoveryAfterLeaseExpiryMs: orphanRecoveryMs,
        staleWrites: stale.length,
        staleRefused: stale.filter((r) => r.outcome === 'refused').length,
        doubled,
        invariantViolations: violations.length,
      })

      assert.equal(takeover!.term, staleTerm.term + 1, 'the takeover started the next term')
      assert.equal(afterWake?.holder, 'taker', 'the woken leader took leadership back')
      assert.ok(stale.length >= 1, 'the woken leader made no late write')
      assert.deepEqual(
        stale.filter((r) => r.outcome !== 'refused'),
        [],
        'a late write under the old term was not refused',
      )
      assert.equal(heldRun?.worker, 'taker', "the frozen leader's job was completed by the taker's run")
      assert.equal(heldJob.attempts, 2)
      assert.equal((await docket.getJob(orphan.id)).attempts, 2)
      assert.equal(doubled, 0, 'a job completed more than once')
      assert.ok(
        ids.every((id) => completions.get(id) === 1),
        'a job never completed',
      )
      assert.deepEqual(violations, [])
      assert.deepEqual(
        stops.map((s) => s.code),
        [0, 0],
      )
      for (const [what, ms] of [
        ["the frozen leader's job", heldRecoveryMs],
        ["the killed worker's job", orphanRecoveryMs],
      ] as const)
        assert.ok(
          ms <= RECOVERY_BOUND_MS,
          `${what} was recovered ${ms} ms after its lease expired (bound ${RECOVERY_BOUND_MS} ms)`,
        )
    })
  })
}

/** A time from the SQL reader: epoch ms on SQLite, a Date on PostgreSQL. */
function toMs(v: unknown): number {
  return v instanceof Date ? v.getTime() : Number(v)
}
