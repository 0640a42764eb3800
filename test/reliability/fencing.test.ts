/**
 * Fencing under races and over HTTP. test/conformance/fencing.ts already
 * shows, one call at a time through the library, that an expired, recovered,
 * taken-over or cancelled lease refuses every write. What it does not show,
 * and this file does:
 *
 *   - a recovery pass and a late completion (or failure, heartbeat, cancel)
 *     really racing each other, on two connections, hundreds of times: exactly
 *     one of them wins, and a finished job is never flipped back;
 *   - the same refusals over HTTP for a remote worker: 409 LEASE_LOST on
 *     complete, fail, progress, events, heartbeat and output upload, for a
 *     lease that expired (before any recovery pass), was revoked by a cancel,
 *     was handed back, or passed to another worker; and nothing changes.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type ClaimedJob, Docket, isDocketError, type LeaseLostReason } from '../../src/index.js'
import { type Json, type Server, useServer } from '../server/harness.js'
import { DRIVERS, figure, freshTarget, pick, sleep, type Target } from './support.js'

const ROUNDS = pick(10, 100)
const PER_ROUND = 20
const LEASE_MS = 150

type Outcome = 'ok' | 'lost'
const outcome = (p: Promise<unknown>): Promise<Outcome> =>
  p.then(
    () => 'ok' as const,
    (e) => {
      if (isDocketError(e, 'LEASE_LOST') || isDocketError(e, 'INVALID_STATE')) return 'lost' as const
      throw e
    },
  )
const shuffle = <T>(xs: T[]) =>
  xs
    .map((x) => [Math.random(), x] as const)
    .sort((a, b) => a[0] - b[0])
    .map((p) => p[1])

for (const driver of DRIVERS) {
  describe(`reliability: fencing races [${driver}]`, () => {
    let target: Target
    let worker: Docket
    let maintainer: Docket
    before(async () => {
      target = await freshTarget(driver)
      worker = await Docket.open(target.url)
      maintainer = await Docket.open(target.url)
    })
    after(async () => {
      await worker?.close()
      await maintainer?.close()
      await target?.cleanup()
    })

    /** Claims a round of jobs (of a fresh queue) with a short lease, then waits until about when it runs out. */
    const claimRound = async (prefix: string, round: number): Promise<ClaimedJob[]> => {
      const queue = `${prefix}-${round}`
      await worker.createQueue({ name: queue, maxAttempts: 10, backoff: { type: 'fixed', delayMs: 60_000 } })
      await worker.addMany(Array.from({ length: PER_ROUND }, (_, i) => ({ queue, type: 'race', payload: i })))
      const jobs = await worker.workers.claim({
        workerId: 'racer',
        queues: [queue],
        limit: PER_ROUND,
        leaseMs: LEASE_MS,
      })
      assert.equal(jobs.length, PER_ROUND)
      await sleep(LEASE_MS - 40 + Math.random() * 80)
      return jobs
    }

    /** Status changes after a final state: there must be none. */
    const eventsAfterFinal = async (id: string) => {
      const states = (await worker.getJob(id)).events.filter((e) => e.kind === 'state').map((e) => e.status)
      const final = states.findIndex((s) => s === 'completed' || s === 'failed' || s === 'cancelled')
      return final === -1 ? [] : states.slice(final + 1)
    }

    it(`a recovery pass racing late completions: exactly one wins, ${ROUNDS * PER_ROUND} times`, async () => {
      const tally = { completed: 0, recovered: 0 }
      for (let round = 0; round < ROUNDS; round++) {
        const jobs = await claimRound('race-complete', round)
        const [outcomes] = await Promise.all([
          Promise.all(
            shuffle(jobs).map(
              async (j) => [j, await outcome(worker.workers.complete(j, { r: round }))] as const,
            ),
          ),
          maintainer.recoverExpiredLeases(),
          sleep(5).then(() => maintainer.recoverExpiredLeases()),
        ])
        await maintainer.recoverExpiredLeases()
        for (const [job, result] of outcomes) {
          const now = await worker.getJob(job.id)
          if (result === 'ok') {
            tally.completed++
            assert.equal(now.status, 'completed', `completion acknowledged but the job is ${now.status}`)
            assert.deepEqual(now.result, { r: round })
          } else {
            tally.recovered++
            assert.equal(now.status, 'waiting', `completion refused but the job is ${now.status}`)
            assert.equal(now.lastError?.name, 'LeaseExpired')
          }
          assert.deepEqual(await eventsAfterFinal(job.id), [], 'a finished job changed state again')
        }
        // Whatever was recovered runs again; nothing completed comes back.
        const again = await worker.workers.claim({
          workerId: 'second',
          queues: [`race-complete-${round}`],
          limit: PER_ROUND * 2,
        })
        assert.deepEqual(
          again.map((j) => j.id).sort(),
          outcomes
            .filter(([, r]) => r === 'lost')
            .map(([j]) => j.id)
            .sort(),
        )
        for (const j of again) await worker.workers.complete(j)
      }
      figure('fencing-race-complete', { driver, races: ROUNDS * PER_ROUND, ...tally, flippedBack: 0 })
    })

    it('a recovery pass racing late failures and heartbeats: never both', async () => {
      const tally = { failed: 0, extended: 0, recovered: 0 }
      for (let round = 0; round < ROUNDS; round++) {
        const jobs = await claimRound('race-fail', round)
        const half = Math.floor(jobs.length / 2)
        const [fails, beats] = await Promise.all([
          Promise.all(
            jobs.slice(0, half).map(async (j) => [j, await outcome(worker.workers.fail(j, 'late'))] as const),
          ),
          Promise.all(
            jobs
              .slice(half)
              .map(async (j) => [j, (await worker.workers.heartbeat(j, 60_000))[0]!.ok] as const),
          ),
          maintainer.recoverExpiredLeases(),
        ])
        await maintainer.recoverExpiredLeases()
        for (const [job, result] of fails) {
          const now = await worker.getJob(job.id)
          assert.equal(now.errorCount, 1, 'both the failure and the recovery counted')
          if (result === 'ok') {
            tally.failed++
            assert.equal(now.status, 'scheduled')
            assert.equal(now.lastError?.message, 'late')
          } else {
            tally.recovered++
            assert.equal(now.status, 'waiting')
            assert.equal(now.lastError?.name, 'LeaseExpired')
          }
        }
        for (const [job, extended] of beats) {
          const now = await worker.getJob(job.id)
          if (extended) {
            tally.extended++
            assert.equal(
              now.status,
              'active',
              'a heartbeat was acknowledged, then its lease recovered anyway',
            )
            assert.equal(now.lease?.token, job.lease.token)
            await worker.workers.complete(job)
          } else {
            tally.recovered++
            assert.equal(now.status, 'waiting')
          }
        }
      }
      figure('fencing-race-fail-heartbeat', { driver, races: ROUNDS * PER_ROUND, ...tally })
    })

    it('a cancel racing a completion: exactly one wins', async () => {
      await worker.createQueue({ name: 'race-cancel' })
      const tally = { completed: 0, cancelled: 0 }
      for (let round = 0; round < ROUNDS; round++) {
        await worker.addMany(Array.from({ length: PER_ROUND }, () => ({ queue: 'race-cancel', type: 'c' })))
        const jobs = await worker.workers.claim({
          workerId: 'racer',
          queues: ['race-cancel'],
          limit: PER_ROUND,
        })
        const results = await Promise.all(
          jobs.map(async (j) => {
            // Both orders: on SQLite, calls from one process take turns rather than overlap.
            const jitter = () => sleep(Math.random() * 4)
            const complete = () => jitter().then(() => outcome(worker.workers.complete(j)))
            const cancel = () => jitter().then(() => outcome(maintainer.cancelJob(j.id)))
            const [done, cancelled] =
              Math.random() < 0.5
                ? await Promise.all([complete(), cancel()])
                : (await Promise.all([cancel(), complete()])).reverse()
            return [j, done!, cancelled!] as const
          }),
        )
        for (const [job, done, cancel] of results) {
          assert.notEqual(done, cancel, `complete ${done}, cancel ${cancel}: exactly one must win`)
          const now = await worker.getJob(job.id)
          assert.equal(now.status, done === 'ok' ? 'completed' : 'cancelled')
          if (done === 'ok') tally.completed++
          else tally.cancelled++
          assert.deepEqual(await eventsAfterFinal(job.id), [])
        }
      }
      figure('fencing-race-cancel', { driver, races: ROUNDS * PER_ROUND, ...tally, bothWon: 0 })
    })
  })

  describe(`reliability: fencing over HTTP [${driver}]`, () => {
    const s: Server = useServer(driver)
    let wid: string
    let queues = 0
    before(async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'fence' })
      wid = (await s.ok(201, 'worker', 'POST', '/api/v1/workers', { queues: ['fence'] })).id
    })

    /** A job of a fresh queue, claimed by the remote worker. */
    const claimOne = async (leaseMs = 60_000): Promise<Json> => {
      const queue = `fence-${++queues}`
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: queue })
      const job = await s.ok(201, 'admin', 'POST', '/api/v1/jobs', { queue, type: 'f' })
      // A claim stays within the registered queues: register again with the new one.
      await s.ok(201, 'worker', 'POST', '/api/v1/workers', { id: wid, queues: [`fence-${queues}`] })
      const { jobs } = await s.ok(200, 'worker', 'POST', `/api/v1/workers/${wid}/claim`, {
        queues: [queue],
        leaseMs,
      })
      assert.equal(jobs.length, 1)
      assert.equal(jobs[0].id, job.id)
      return jobs[0]
    }

    /** Every report a remote worker can make with `token`: each must be 409 LEASE_LOST saying why, and change nothing. */
    const assertFenced = async (id: string, token: string, situation: LeaseLostReason) => {
      const before = await s.ok(200, 'admin', 'GET', `/api/v1/jobs/${id}`)
      const J = `/api/v1/jobs/${id}`
      const reports: [string, unknown][] = [
        [`${J}/complete`, { token, result: { late: true } }],
        [`${J}/fail`, { token, error: { message: 'late' } }],
        [`${J}/fail`, { token, error: { message: 'late' }, retryable: false }],
        [`${J}/progress`, { token, percent: 99, message: 'late' }],
        [`${J}/events`, { token, kind: 'log', message: 'late' }],
        [`${J}/events`, { token, kind: 'step.started', step: 'late' }],
        [`${J}/heartbeat`, { token }],
        [`${J}/heartbeat`, { token, leaseMs: 60_000 }],
        [`${J}/release`, { token }],
      ]
      for (const [path, body] of reports) {
        const error = await s.fail(409, 'LEASE_LOST', 'worker', 'POST', path, body)
        assert.equal(error.details.jobId, id, `${situation}: ${path}`)
        assert.match(error.message, /lease/, `${situation}: ${path}`)
        assert.equal(error.details.reason, situation, `${situation}: ${path}`)
      }
      const form = new FormData()
      form.set('token', token)
      form.set('file', new Blob(['late output'], { type: 'text/plain' }), 'late.txt')
      const upload = await fetch(`${s.base}${J}/artifacts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.keys.worker}` },
        body: form,
      })
      const uploaded = (await upload.json()) as Json
      assert.equal(upload.status, 409, `${situation}: output upload: ${JSON.stringify(uploaded)}`)
      assert.equal(uploaded.error.code, 'LEASE_LOST')
      assert.equal(uploaded.error.details.reason, situation)
      const now = await s.ok(200, 'admin', 'GET', `/api/v1/jobs/${id}`)
      assert.deepEqual(now, before, `${situation}: a refused report changed the job`)
      return reports.length + 1
    }

    it('refuses every report on a lease that expired, before any recovery pass, with 409 LEASE_LOST', async () => {
      const job = await claimOne(1_000)
      await sleep(1_200)
      const refused = await assertFenced(job.id, job.lease.token, 'expired')
      assert.equal((await s.ok(200, 'admin', 'GET', `/api/v1/jobs/${job.id}`)).status, 'active')
      figure('fencing-http', { driver, situation: 'expired', refused, changed: 0 })
    })

    it('refuses every report on a lease revoked by a cancel, or handed back', async () => {
      const cancelled = await claimOne()
      await s.ok(200, 'admin', 'POST', `/api/v1/jobs/${cancelled.id}/cancel`)
      const a = await assertFenced(cancelled.id, cancelled.lease.token, 'cancelled')
      const released = await claimOne()
      assert.deepEqual(await s.docket.workers.release({ id: released.id, token: released.lease.token }), [
        { id: released.id, ok: true },
      ])
      const b = await assertFenced(released.id, released.lease.token, 'released')
      figure('fencing-http', { driver, situation: 'cancelled+released', refused: a + b, changed: 0 })
    })

    it('refuses the old holder once the job passed to another worker, while the new holder goes on', async () => {
      const first = await claimOne(1_000)
      await sleep(1_200)
      assert.ok((await s.docket.recoverExpiredLeases()) >= 1)
      const { jobs } = await s.ok(200, 'worker', 'POST', `/api/v1/workers/${wid}/claim`, {
        queues: [first.queue],
      })
      const second = jobs[0]
      assert.equal(second.id, first.id)
      const refused = await assertFenced(first.id, first.lease.token, 'taken-over')
      await s.ok(200, 'worker', 'POST', `/api/v1/jobs/${second.id}/progress`, {
        token: second.lease.token,
        percent: 50,
      })
      await s.ok(200, 'worker', 'POST', `/api/v1/jobs/${second.id}/complete`, {
        token: second.lease.token,
        result: { by: 'second' },
      })
      const done = await s.ok(200, 'admin', 'GET', `/api/v1/jobs/${second.id}`)
      assert.equal(done.status, 'completed')
      assert.deepEqual(done.result, { by: 'second' })
      // A late recovery pass leaves the finished job alone, and the old token is still refused.
      await s.docket.recoverExpiredLeases()
      // A job remembers its current and its last ended lease; a token older than that is answered as unknown.
      await assertFenced(first.id, first.lease.token, 'deleted')
      figure('fencing-http', { driver, situation: 'taken-over', refused, changed: 0 })
    })

    it('answers a report for a deleted job, another job’s token and a malformed one alike: 409, reason deleted', async () => {
      const a = await claimOne()
      const b = await claimOne()
      await assertFenced(a.id, b.lease.token, 'deleted')
      await assertFenced(a.id, 'not-a-uuid', 'deleted')
      await s.ok(200, 'admin', 'POST', `/api/v1/jobs/${b.id}/cancel`)
      await s.ok(200, 'admin', 'DELETE', `/api/v1/jobs/${b.id}`)
      const gone = await s.fail(409, 'LEASE_LOST', 'worker', 'POST', `/api/v1/jobs/${b.id}/complete`, {
        token: b.lease.token,
      })
      assert.equal(gone.details.reason, 'deleted')
      await s.ok(200, 'worker', 'POST', `/api/v1/jobs/${a.id}/complete`, { token: a.lease.token })
    })
  })
}
