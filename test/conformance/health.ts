/**
 * A queue's health by the injected clock: latency (the oldest ready job's
 * age), 1- and 5-minute rates, the backlog trend, paused with jobs ready,
 * and the top errors grouped by error fingerprint; scoped to an owner, whose
 * view holds nobody else's jobs.
 */
// Store parts (storage/store.ts): QueueStatsStore (queueHealth).
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import { type ConformanceContext, claim, makeQueue, test } from './harness.js'

export function healthSuite(ctx: ConformanceContext): void {
  describe('queue health', () => {
    test('an empty queue is healthy: no latency, no rates, no errors', async () => {
      const queue = await makeQueue(ctx.clocked, 'h-empty')
      const h = await ctx.clocked.queueHealth(queue)
      assert.deepEqual(h, {
        latencyMs: 0,
        rates: { lastMinute: { completed: 0, failed: 0 }, last5Minutes: { completed: 0, failed: 0 } },
        backlogTrendPerMinute: 0,
        stalled: false,
        topErrors: [],
      })
    })

    test('latency is the age of the oldest ready job; a job not yet due does not count', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'h-latency')
      await docket.add({ queue, type: 't' })
      clock.advance(4000)
      await docket.add({ queue, type: 't' })
      await docket.add({ queue, type: 't', runAt: new Date(clock.now().getTime() + 60_000) })
      clock.advance(1000)
      assert.equal((await docket.queueHealth(queue)).latencyMs, 5000)
      // The oldest started: the next oldest ready job is what the queue is behind by.
      await claim(docket, queue)
      assert.equal((await docket.queueHealth(queue)).latencyMs, 1000)
    })

    test('rates over one and five minutes; the backlog trend weighs added against finished', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'h-rates', { maxAttempts: 1 })
      for (let i = 0; i < 6; i++) await docket.add({ queue, type: 't' })
      // Four finish three minutes ago (three completed, one failed), two in the last minute.
      for (let i = 0; i < 4; i++) {
        const [job] = await claim(docket, queue)
        assert.ok(job)
        if (i === 3) await docket.workers.fail(job, { message: 'boom' })
        else await docket.workers.complete(job, null)
      }
      clock.advance(3 * 60_000)
      for (let i = 0; i < 2; i++) {
        const [job] = await claim(docket, queue)
        assert.ok(job)
        await docket.workers.complete(job, null)
      }
      const h = await docket.queueHealth(queue)
      assert.deepEqual(h.rates, {
        lastMinute: { completed: 2, failed: 0 },
        last5Minutes: { completed: 1, failed: 0.2 },
      })
      assert.equal(h.backlogTrendPerMinute, 0, '6 added, 6 finished in five minutes')
      for (let i = 0; i < 10; i++) await docket.add({ queue, type: 't' })
      assert.equal((await docket.queueHealth(queue)).backlogTrendPerMinute, 2, '10 more added: +2 a minute')
      clock.advance(5 * 60_000 + 1)
      const later = await docket.queueHealth(queue)
      assert.deepEqual(
        later.rates.last5Minutes,
        { completed: 0, failed: 0 },
        'older finishes leave the window',
      )
      assert.equal(later.backlogTrendPerMinute, 0)
    })

    test('a paused queue with ready jobs is stalled; without ready jobs it is not', async () => {
      const { clocked: docket } = ctx
      const queue = await makeQueue(docket, 'h-paused')
      await docket.pauseQueue(queue)
      assert.equal((await docket.queueHealth(queue)).stalled, false)
      await docket.add({ queue, type: 't' })
      assert.equal((await docket.queueHealth(queue)).stalled, true)
      await docket.resumeQueue(queue)
      assert.equal((await docket.queueHealth(queue)).stalled, false)
    })

    test('top errors group failures by fingerprint: one class whatever ids and numbers the messages name', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'h-prints', { maxAttempts: 1 })
      const failWith = async (message: string, stack?: string) => {
        const job = await docket.add({ queue, type: 't' })
        const [claimed] = await claim(docket, queue)
        await docket.workers.fail(claimed!, { name: 'RenderError', message, ...(stack ? { stack } : {}) })
        const at = clock.now().getTime()
        clock.advance(10)
        return { id: job.id, at }
      }
      const first = await failWith('page 3 of deck 01JE4ZQ8M2V6X9T3K7B5N1R0CD failed')
      await failWith('page 4 of deck 01KF5ARBN3W7Y0V4M8C6P2S1DE failed')
      const latest = await failWith('page 12 of deck 01KF5ARBN3W7Y0V4M8C6P2S1ZZ failed')
      // The same words thrown from another function are another class.
      const elsewhere = await failWith(
        'page 5 of deck 01KF5ARBN3W7Y0V4M8C6P2S1DE failed',
        'RenderError: x\n    at uploadDeck (/srv/app/dist/upload.js:20:3)',
      )
      const h = await docket.queueHealth(queue)
      assert.equal(h.topErrors.length, 2)
      const [top, other] = h.topErrors
      assert.equal(top!.count, 3)
      assert.equal(
        top!.message,
        'page 12 of deck 01KF5ARBN3W7Y0V4M8C6P2S1ZZ failed',
        'the latest is the example',
      )
      assert.equal(top!.normalized, 'RenderError: page <num> of deck <ulid> failed')
      assert.equal(top!.latestJobId, latest.id)
      assert.equal(top!.firstSeenAt.getTime(), first.at)
      assert.equal(top!.lastSeenAt.getTime(), latest.at)
      assert.deepEqual(top!.latestAt, top!.lastSeenAt)
      assert.match(top!.fingerprint, /^[0-9a-f]{12}$/)
      assert.equal(other!.count, 1)
      assert.equal(other!.latestJobId, elsewhere.id)
      assert.notEqual(other!.fingerprint, top!.fingerprint)

      // The job's last error and its attempt carry the same fingerprint.
      const job = await docket.getJob(latest.id)
      assert.equal(job.lastError?.fingerprint, top!.fingerprint)
      assert.equal(job.attemptHistory[0]!.error?.fingerprint, top!.fingerprint)
    })

    test('top errors group failures by name and message, with counts and the latest job', async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'h-errors', { maxAttempts: 1 })
      const failWith = async (name: string, message: string, owner?: string) => {
        const job = await docket.add({ queue, type: 't', ...(owner ? { owner } : {}) })
        const [claimed] = await claim(docket, queue)
        assert.equal(claimed?.id, job.id)
        await docket.workers.fail(claimed!, { name, message })
        clock.advance(10)
        return job.id
      }
      await failWith('DeployError', 'column "x" does not exist', 'alice')
      await failWith('TimeoutError', 'took too long', 'bob')
      await failWith('DeployError', 'column "x" does not exist', 'bob')
      const latest = await failWith('DeployError', 'column "x" does not exist', 'alice')
      await failWith('DeployError', 'another message', 'alice')
      const h = await docket.queueHealth(queue)
      assert.deepEqual(
        h.topErrors.map((e) => [e.name, e.message, e.count]),
        [
          ['DeployError', 'column "x" does not exist', 3],
          ['DeployError', 'another message', 1],
          ['TimeoutError', 'took too long', 1],
        ],
      )
      assert.equal(h.topErrors[0]!.latestJobId, latest)
      assert.ok(h.topErrors[0]!.latestAt instanceof Date)

      // Alice's view: bob's failures do not exist, in the counts or in the latest job.
      const mine = await docket.queueHealth(queue, { owner: 'alice' })
      assert.deepEqual(
        mine.topErrors.map((e) => [e.message, e.count, e.latestJobId === latest]),
        [
          ['column "x" does not exist', 2, true],
          ['another message', 1, false],
        ],
      )
      const bobs = await docket.queueHealth(queue, { owner: 'bob' })
      assert.deepEqual(
        bobs.topErrors.map((e) => [e.message, e.count]),
        [
          ['column "x" does not exist', 1],
          ['took too long', 1],
        ],
      )
      assert.ok(!bobs.topErrors.some((e) => e.latestJobId === latest))

      // A day later they are history: the top errors say what goes wrong now.
      clock.advance(24 * 3600_000 + 1)
      assert.deepEqual((await docket.queueHealth(queue)).topErrors, [])
    })

    test("an owner's latency and rates count only their jobs", async () => {
      const { clocked: docket, clock } = ctx
      const queue = await makeQueue(docket, 'h-owner')
      await docket.add({ queue, type: 't', owner: 'bob' })
      clock.advance(3000)
      await docket.add({ queue, type: 't', owner: 'alice' })
      clock.advance(1000)
      assert.equal((await docket.queueHealth(queue)).latencyMs, 4000)
      assert.equal((await docket.queueHealth(queue, { owner: 'alice' })).latencyMs, 1000)
      assert.equal((await docket.queueHealth(queue, { owner: 'carol' })).latencyMs, 0)
      const [bobs] = await claim(docket, queue)
      await docket.workers.complete(bobs!, null)
      assert.equal((await docket.queueHealth(queue, { owner: 'alice' })).rates.lastMinute.completed, 0)
      assert.equal((await docket.queueHealth(queue, { owner: 'bob' })).rates.lastMinute.completed, 1)
    })
  })
}
