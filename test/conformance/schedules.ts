/**
 * Schedules: stored, run by whoever runs due schedules (the maintenance
 * leader), each tick exactly once, even with several processes at once;
 * catch-up and overlap policies, held jobs in manual queues, run now, and bad
 * input refused with nothing written. Every test moves the clock of
 * `ctx.clocked` instead of sleeping, and deletes its schedules at the end so
 * later passes of other tests find nothing of them due.
 */
// Store parts (storage/store.ts): ScheduleStore.
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import type { LeaderTerm } from '../../src/core/types.js'
import { type Docket, Maintenance, type Schedule, type ScheduleCreateInput } from '../../src/index.js'
import {
  type ConformanceContext,
  claim,
  claimOne,
  expectError,
  makeQueue,
  test,
  uniqueName,
} from './harness.js'

const SECOND = 1_000

export function schedulesSuite(ctx: ConformanceContext): void {
  describe('schedules', () => {
    const made: Schedule[] = []
    /** Creates a schedule on the clocked Docket, remembered for cleanup. */
    const schedule = async (input: Omit<ScheduleCreateInput, 'name'> & { name?: string }) => {
      const s = await ctx.clocked.createSchedule({ name: uniqueName('sched'), ...input })
      made.push(s)
      return s
    }
    /** Runs due schedules on the clocked Docket and returns only `s`'s runs. */
    const run = async (s: Schedule, docket: Docket = ctx.clocked) =>
      (await docket.runDueSchedules()).filter((r) => r.scheduleId === s.id)
    const jobsOf = async (queue: string) =>
      (await ctx.clocked.listJobs({ queue, order: 'asc', limit: 1000 })).jobs
    const cleanupSchedules = async () => {
      for (const s of made.splice(0)) await ctx.clocked.deleteSchedule(s.id).catch(() => {})
    }

    test('create, get, list, update, pause, resume and delete a schedule', async () => {
      try {
        const queue = await makeQueue(ctx.clocked, 'sch-crud')
        const now = ctx.clock.now().getTime()
        const s = await schedule({ cron: '0 3 * * *', timezone: 'Europe/Berlin', queue, type: 'nightly' })
        assert.equal(s.enabled, true)
        assert.equal(s.catchUp, 'latest')
        assert.equal(s.overlap, 'allow')
        assert.ok(s.nextRunAt && s.nextRunAt.getTime() > now && s.nextRunAt.getTime() <= now + 25 * 3600_000)
        const detail = await ctx.clocked.getSchedule(s.id)
        assert.equal(detail.nextRuns.length, 5)
        assert.deepEqual(detail.nextRuns[0], s.nextRunAt)
        assert.equal(detail.nextRuns[1]!.getTime() - detail.nextRuns[0]!.getTime() >= 23 * 3600_000, true)
        assert.deepEqual(detail.runs, [])
        assert.deepEqual(
          (await ctx.clocked.listSchedules({ name: s.name })).map((x) => x.id),
          [s.id],
        )

        const updated = await ctx.clocked.updateSchedule(s.id, { every: 60 * SECOND, payload: { v: 2 } })
        assert.deepEqual([updated.cron, updated.every, updated.timezone], [null, 60 * SECOND, null])
        assert.equal(updated.nextRunAt?.getTime(), now + 60 * SECOND)
        const paused = await ctx.clocked.pauseSchedule(s.id)
        assert.equal(paused.enabled, false)
        assert.equal(paused.nextRunAt, null)
        assert.deepEqual((await ctx.clocked.getSchedule(s.id)).nextRuns, [])
        ctx.clock.advance(5 * 60 * SECOND)
        const resumed = await ctx.clocked.resumeSchedule(s.id)
        assert.equal(
          resumed.nextRunAt?.getTime(),
          ctx.clock.now().getTime() + 60 * SECOND,
          'a resumed schedule counts from now: nothing missed while paused is caught up',
        )
        await ctx.clocked.deleteSchedule(s.id)
        await expectError(() => ctx.clocked.getSchedule(s.id), 'NOT_FOUND')
        await expectError(() => ctx.clocked.deleteSchedule(s.id), 'NOT_FOUND')
      } finally {
        await cleanupSchedules()
      }
    })

    test('a name is unique per owner; two owners may use the same name', async () => {
      try {
        const queue = await makeQueue(ctx.clocked, 'sch-names')
        const name = uniqueName('same')
        await schedule({ name, every: 60 * SECOND, queue, type: 't', owner: 'alice' })
        await expectError(
          () => schedule({ name, every: 60 * SECOND, queue, type: 't', owner: 'alice' }),
          'CONFLICT',
          [name],
        )
        const bob = await schedule({ name, every: 60 * SECOND, queue, type: 't', owner: 'bob' })
        assert.deepEqual(
          (await ctx.clocked.listSchedules({ owner: 'bob', name })).map((x) => x.id),
          [bob.id],
        )
        assert.equal((await ctx.clocked.listSchedules({ name })).length, 2)
      } finally {
        await cleanupSchedules()
      }
    })

    test('each tick makes one job with the schedule’s type, payload, options and owner, once', async () => {
      try {
        const queue = await makeQueue(ctx.clocked, 'sch-tick')
        const s = await schedule({
          every: 10 * SECOND,
          queue,
          type: 'report',
          payload: { kind: 'daily' },
          options: { priority: 'high', maxAttempts: 7, capabilities: ['pdf'] },
          owner: 'alice',
        })
        assert.deepEqual(await run(s), [], 'nothing is due before the first tick')
        ctx.clock.advance(10 * SECOND)
        const [first, ...more] = await run(s)
        assert.deepEqual(more, [])
        assert.equal(first!.at.getTime(), s.nextRunAt!.getTime())
        assert.equal(first!.manual, false)
        assert.equal(first!.outcome, 'waiting')
        assert.deepEqual(await run(s), [], 'a tick runs once')
        const [job] = await jobsOf(queue)
        assert.equal(job!.id, first!.jobId)
        assert.equal(job!.type, 'report')
        assert.deepEqual(job!.payload, { kind: 'daily' })
        assert.equal(job!.priority, 75)
        assert.equal(job!.maxAttempts, 7)
        assert.deepEqual(job!.capabilities, ['pdf'])
        assert.equal(job!.owner, 'alice', "a user's schedule makes that user's jobs")

        ctx.clock.advance(10 * SECOND)
        assert.equal((await run(s)).length, 1)
        const [claimed] = await claim(ctx.clocked, queue, { capabilities: ['pdf'] })
        assert.ok(claimed)
        await ctx.clocked.workers.complete(claimed, 'ok')
        const detail = await ctx.clocked.getSchedule(s.id)
        assert.deepEqual(
          detail.runs.map((r) => r.outcome),
          claimed.id === first!.jobId ? ['waiting', 'completed'] : ['completed', 'waiting'],
          'runs are newest first, each with its job’s outcome',
        )
        assert.equal(detail.lastRunAt?.getTime(), detail.runs[0]!.at.getTime())
        assert.equal(detail.nextRunAt!.getTime(), s.nextRunAt!.getTime() + 20 * SECOND)
      } finally {
        await cleanupSchedules()
      }
    })

    test('a cron schedule with seconds ticks on its times', async () => {
      try {
        const queue = await makeQueue(ctx.clocked, 'sch-cron')
        const s = await schedule({ cron: '*/20 * * * * *', queue, type: 'pulse', catchUp: 'all' })
        const next = s.nextRunAt!.getTime()
        assert.equal(next % (20 * SECOND), 0)
        ctx.clock.set(next + 45 * SECOND)
        const runs = await run(s)
        assert.deepEqual(
          runs.map((r) => r.at.getTime()),
          [next, next + 20 * SECOND, next + 40 * SECOND],
        )
        assert.equal((await jobsOf(queue)).length, 3)
      } finally {
        await cleanupSchedules()
      }
    })

    test('catchUp: all runs each missed tick, latest runs one, none runs none of the late ones', async () => {
      try {
        const queues = {
          all: await makeQueue(ctx.clocked, 'sch-all'),
          latest: await makeQueue(ctx.clocked, 'sch-latest'),
          none: await makeQueue(ctx.clocked, 'sch-none'),
        }
        const schedules = await Promise.all(
          (['all', 'latest', 'none'] as const).map((catchUp) =>
            schedule({ every: 60 * SECOND, queue: queues[catchUp], type: 't', catchUp }),
          ),
        )
        // Nothing ran for five minutes and a half: the last tick is 30 s late.
        ctx.clock.advance(5 * 60 * SECOND + 31 * SECOND)
        await ctx.clocked.runDueSchedules()
        assert.equal((await jobsOf(queues.all)).length, 5)
        assert.equal((await jobsOf(queues.latest)).length, 1)
        assert.equal((await jobsOf(queues.none)).length, 0)
        // All three are on time again from here.
        for (const s of schedules) {
          const detail = await ctx.clocked.getSchedule(s.id)
          assert.equal(detail.nextRunAt!.getTime(), s.nextRunAt!.getTime() + 5 * 60 * SECOND)
        }
        ctx.clock.advance(30 * SECOND)
        await ctx.clocked.runDueSchedules()
        assert.equal((await jobsOf(queues.none)).length, 1, 'an on-time tick runs with catchUp none')
      } finally {
        await cleanupSchedules()
      }
    })

    test('overlap: skip records a skipped run while the previous job is live, and runs again once it finished', async () => {
      try {
        const queue = await makeQueue(ctx.clocked, 'sch-overlap')
        const s = await schedule({ every: 10 * SECOND, queue, type: 't', overlap: 'skip' })
        ctx.clock.advance(10 * SECOND)
        assert.equal((await run(s))[0]!.outcome, 'waiting')
        ctx.clock.advance(10 * SECOND)
        const [skipped] = await run(s)
        assert.equal(skipped!.outcome, 'skipped')
        assert.equal(skipped!.jobId, null)
        assert.match(skipped!.reason ?? '', /overlap/)
        const job = await claimOne(ctx.clocked, queue)
        ctx.clock.advance(10 * SECOND)
        assert.equal((await run(s))[0]!.outcome, 'skipped', 'an active job is live too')
        await ctx.clocked.workers.complete(job, null)
        ctx.clock.advance(10 * SECOND)
        assert.equal((await run(s))[0]!.outcome, 'waiting')
        assert.equal((await jobsOf(queue)).length, 2)
      } finally {
        await cleanupSchedules()
      }
    })

    test('a schedule into a manual-mode queue makes held jobs, which an operator promotes', async () => {
      try {
        const queue = await makeQueue(ctx.clocked, 'sch-manual', { mode: 'manual' })
        const s = await schedule({ every: 10 * SECOND, queue, type: 'approve-me' })
        ctx.clock.advance(10 * SECOND)
        const [r] = await run(s)
        assert.equal(r!.outcome, 'held')
        assert.equal(await ctx.clocked.promote([r!.jobId!]), 1)
        assert.equal((await ctx.clocked.getJob(r!.jobId!)).status, 'waiting')
      } finally {
        await cleanupSchedules()
      }
    })

    test('several processes running due schedules at once make each tick’s job exactly once', async () => {
      try {
        const others = [await ctx.open({ clock: ctx.clock }), await ctx.open({ clock: ctx.clock })]
        const queue = await makeQueue(ctx.clocked, 'sch-once')
        const s = await schedule({ every: SECOND, queue, type: 't', catchUp: 'all' })
        for (let round = 1; round <= 3; round++) {
          ctx.clock.advance(round === 2 ? 7 * SECOND : SECOND)
          const runs = await Promise.all([ctx.clocked, ...others].map((d) => run(s, d)))
          assert.equal(runs.flat().length, round === 2 ? 7 : 1, `round ${round}`)
        }
        const jobs = await jobsOf(queue)
        assert.equal(jobs.length, 9)
        const ticks = (await ctx.clocked.getSchedule(s.id, { runs: 50 })).runs.map((r) => r.at.getTime())
        assert.equal(new Set(ticks).size, 9, 'one run per tick')
      } finally {
        await cleanupSchedules()
      }
    })

    test('the maintenance leader runs due schedules; a pass under a term that is over writes nothing', async () => {
      try {
        const queue = await makeQueue(ctx.clocked, 'sch-leader')
        const s = await schedule({ every: 10 * SECOND, queue, type: 't' })
        ctx.clock.advance(10 * SECOND)
        const stale: LeaderTerm = { name: 'maintenance', holder: uniqueName('gone'), term: 0 }
        await expectError(() => ctx.clocked.runDueSchedules(stale), 'LEADERSHIP_LOST')
        assert.equal((await jobsOf(queue)).length, 0)
        assert.deepEqual((await ctx.clocked.getSchedule(s.id)).runs, [])

        const leader = new Maintenance(ctx.clocked, { holder: uniqueName('leader'), leadershipTtlMs: 60_000 })
        try {
          // Whoever led before on this database holds a lease by its own clock; the test clock is past it.
          ctx.clock.advance(120 * SECOND)
          assert.equal(await leader.runOnce(), 'led')
        } finally {
          await leader.stop()
        }
        assert.equal((await jobsOf(queue)).length, 1, 'the leader ran the schedule (catchUp latest: once)')
      } finally {
        await cleanupSchedules()
      }
    })

    test('run now makes a job at once, even while paused, and leaves the ticks alone', async () => {
      try {
        const queue = await makeQueue(ctx.clocked, 'sch-now')
        const s = await schedule({ every: 60 * SECOND, queue, type: 't', enabled: false })
        const r = await ctx.clocked.runSchedule(s.id)
        assert.equal(r.manual, true)
        assert.equal(r.outcome, 'waiting')
        assert.equal(
          (await ctx.clocked.runSchedule(s.id)).manual,
          true,
          'run now twice at one time is two runs',
        )
        assert.equal((await jobsOf(queue)).length, 2)
        const after = await ctx.clocked.getSchedule(s.id)
        assert.equal(after.enabled, false)
        assert.equal(after.nextRunAt, null)
        assert.equal(after.runs.length, 2)
      } finally {
        await cleanupSchedules()
      }
    })

    test('a schedule whose queue was deleted records an error run and goes on', async () => {
      try {
        const queue = await makeQueue(ctx.clocked, 'sch-gone')
        const s = await schedule({ every: 10 * SECOND, queue, type: 't' })
        await ctx.clocked.deleteQueue(queue)
        ctx.clock.advance(10 * SECOND)
        const [r] = await run(s)
        assert.equal(r!.outcome, 'error')
        assert.match(r!.reason ?? '', new RegExp(queue))
        ctx.clock.advance(10 * SECOND)
        assert.equal((await run(s)).length, 1)
      } finally {
        await cleanupSchedules()
      }
    })

    test('bad input is refused naming the field, and creates or changes nothing', async () => {
      try {
        const queue = await makeQueue(ctx.clocked, 'sch-bad')
        const name = uniqueName('bad')
        const base = { name, queue, type: 't' }
        const cases: [unknown, string, string[]][] = [
          [
            { ...base, cron: '61 * * * *' },
            'INVALID_ARGUMENT',
            ['cron', 'minute field: 61 is out of range 0-59'],
          ],
          [{ ...base, cron: '* * *' }, 'INVALID_ARGUMENT', ['cron']],
          [{ ...base, cron: '* * * * *', timezone: 'Nowhere/Land' }, 'INVALID_ARGUMENT', ['timezone']],
          [{ ...base, every: 10 }, 'INVALID_ARGUMENT', ['every']],
          [base, 'INVALID_ARGUMENT', ['cron or every']],
          [{ ...base, every: 60_000, catchUp: 'some' }, 'INVALID_ARGUMENT', ['catchUp']],
          [{ ...base, every: 60_000, overlap: 'never' }, 'INVALID_ARGUMENT', ['overlap']],
          [{ ...base, every: 60_000, options: { runAt: 0 } }, 'INVALID_ARGUMENT', ['options.runAt']],
          [{ ...base, every: 60_000, options: { priority: 1000 } }, 'INVALID_ARGUMENT', ['options.priority']],
          [{ ...base, every: 60_000, repeat: true }, 'INVALID_ARGUMENT', ['repeat']],
          [{ ...base, every: 60_000, queue: uniqueName('nope') }, 'NOT_FOUND', ['queue']],
        ]
        for (const [input, code, fields] of cases)
          await expectError(
            () => ctx.clocked.createSchedule(input as ScheduleCreateInput),
            code as 'NOT_FOUND',
            fields,
          )
        assert.deepEqual(await ctx.clocked.listSchedules({ name }), [])

        const s = await schedule({ ...base, every: 60_000 })
        await expectError(
          () => ctx.clocked.updateSchedule(s.id, { cron: '* 24 * * *' }),
          'INVALID_ARGUMENT',
          ['hour'],
        )
        await expectError(() => ctx.clocked.updateSchedule(s.id, { queue: uniqueName('nope') }), 'NOT_FOUND')
        await expectError(() => ctx.clocked.getSchedule('not-an-id'), 'INVALID_ARGUMENT', ['schedule id'])
        const { nextRuns: _n, runs: _r, ...unchanged } = await ctx.clocked.getSchedule(s.id)
        assert.deepEqual(unchanged, s)
      } finally {
        await cleanupSchedules()
      }
    })
  })
}
