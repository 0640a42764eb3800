/**
 * Sandboxed handlers, in a worker thread and in a child process: the context
 * passes through, CPU-bound work leaves the worker's heartbeats alone, and a
 * timeout or a cancel ends the sandbox for real.
 */
import assert from 'node:assert/strict'
import { fork } from 'node:child_process'
import { after, afterEach, before, describe, it } from 'node:test'
import { Docket, type Isolation, sandboxed, Worker, type WorkerOptions } from '../../src/index.js'
import { liveSandboxes } from '../../src/worker/sandbox.js'
import { type Driver, freshTarget, type Target, until } from './harness.js'

const FIXTURE = new URL('./fixtures/sandboxed.ts', import.meta.url)
const handler = (isolation: Isolation, name = 'default') => sandboxed(FIXTURE, { isolation, export: name })

/** Whether a process is still there (signal 0 only asks). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export function sandboxSuite(driver: Driver): void {
  describe(`sandboxed handlers [${driver}]`, () => {
    let target: Target
    let docket: Docket
    const workers: Worker[] = []

    before(async () => {
      target = await freshTarget(driver)
      docket = await Docket.open(target.url)
    })
    afterEach(async () => {
      await Promise.all(workers.splice(0).map((w) => w.close()))
    })
    after(async () => {
      await docket.close()
      await target.cleanup()
    })

    const start = (
      queue: string,
      handlers: WorkerOptions['handlers'],
      extra: Partial<WorkerOptions> = {},
    ) => {
      const w = new Worker(docket, { queues: [queue], handlers, pollMs: 50, onError: () => {}, ...extra })
      workers.push(w)
      return w.start()
    }
    // Generous: a crashed sandbox is restarted, loading the handler's module again, which is slow
    // when the machine is loaded (a run beside other suites timed out at 20 s; alone it passes).
    const settled = (id: string, timeoutMs = 60_000) =>
      until(
        async () => ['completed', 'failed', 'cancelled'].includes((await docket.getJob(id)).status),
        timeoutMs,
        `job ${id} to finish`,
      )
    /** The identity the handler logged once it was running: where it spins. */
    const spinning = async (id: string) => {
      await until(
        async () =>
          (await docket.getJob(id)).events.some((e) => e.kind === 'log' && e.message === 'spinning'),
        20_000,
        `job ${id} to start spinning`,
      )
      const log = (await docket.getJob(id)).events.find((e) => e.kind === 'log' && e.message === 'spinning')!
      return log.data as { pid: number; threadId: number; grandchild?: number }
    }
    const sandboxesOf = (id: string) => liveSandboxes().filter((s) => s.jobId === id)

    it('refuses an isolation that is neither thread nor process', () => {
      assert.throws(() => sandboxed(FIXTURE, { isolation: 'vm' as Isolation }), {
        code: 'INVALID_ARGUMENT',
        message: /isolation must be 'thread' or 'process'/,
      })
      assert.throws(() => sandboxed(''), { code: 'INVALID_ARGUMENT' })
      assert.throws(() => sandboxed(FIXTURE, { maxMemoryMb: 1.5 }), { code: 'INVALID_ARGUMENT' })
    })

    for (const isolation of ['thread', 'process'] as const) {
      describe(`isolation: '${isolation}'`, () => {
        const q = (name: string) => `sb-${isolation}-${name}`

        it('passes progress, steps, logs and output files through to the job, and stores the result', async () => {
          await docket.createQueue({ name: q('ctx') })
          await start(q('ctx'), { count: handler(isolation) })
          const job = await docket.add(q('ctx'), 'count', { text: 'a b c' })
          await settled(job.id)
          const detail = await docket.getJob(job.id)
          assert.equal(detail.status, 'completed', JSON.stringify(detail.lastError))
          const result = detail.result as Record<string, unknown>
          assert.deepEqual(
            { ...result, pid: undefined, threadId: undefined },
            {
              words: 3,
              attempt: 1,
              files: ['words.txt'],
              readBack: 'a\nb\nc',
              isBuffer: true,
              pid: undefined,
              threadId: undefined,
            },
          )
          if (isolation === 'process') assert.notEqual(result.pid, process.pid, 'ran in another process')
          else assert.notEqual(result.threadId, 0, 'ran off the main thread')
          const events = detail.events.filter((e) => e.kind !== 'state' && e.kind !== 'added')
          assert.deepEqual(
            events.map((e) => [e.kind, e.step]),
            [
              ['step.started', 'split'],
              ['progress', 'split'],
              ['step.completed', 'split'],
              ['log', null],
              ['step.started', 'refused'],
              ['step.failed', 'refused'],
            ],
          )
          assert.equal(events[1]!.message, 'splitting')
          assert.deepEqual(events[3]!.data, { n: 3 })
          assert.equal(events[5]!.message, 'this step fails')
          assert.deepEqual(
            detail.artifacts.map((a) => [a.direction, a.name, a.size]),
            [['output', 'words.txt', 5]],
          )
          await until(() => sandboxesOf(job.id).length === 0, 10_000, 'the sandbox to exit')
        })

        it('keeps heartbeats going while the handler spins the CPU: the lease holds throughout', async () => {
          // A 1.5 s lease, and a handler that spins for 3 s without yielding. In-process, it would stall
          // the event loop and lose the lease; sandboxed, the heartbeats go on, so the lease keeps
          // moving forward, and the job completes on its first attempt (maintenance recovers expired leases).
          await docket.createQueue({ name: q('spin'), maxAttempts: 3 })
          await start(q('spin'), { spin: handler(isolation, 'spin') }, { leaseMs: 1_500, heartbeatMs: 100 })
          const job = await docket.add(q('spin'), 'spin', { ms: 3_000 })
          const expiries = new Set<number>()
          await until(
            async () => {
              const j = await docket.getJob(job.id)
              if (j.lease) expiries.add(j.lease.expiresAt.getTime())
              return ['completed', 'failed', 'cancelled'].includes(j.status)
            },
            30_000,
            'the spinning job to finish',
          )
          const detail = await docket.getJob(job.id)
          assert.equal(detail.status, 'completed', JSON.stringify(detail.lastError))
          assert.equal(detail.attempts, 1, 'the lease was never lost')
          assert.ok((detail.result as { turns: number }).turns > 0)
          assert.ok(
            expiries.size >= 3,
            `the lease was extended while the handler spun (${expiries.size} expiries seen)`,
          )
        })

        it('terminates a handler that outlives its timeout: its sandbox is gone and the attempt fails', async () => {
          await docket.createQueue({ name: q('timeout'), maxAttempts: 1 })
          await start(q('timeout'), { spin: handler(isolation, 'spinForever') })
          const job = await docket.add(q('timeout'), 'spin', {}, { timeoutMs: 1_000 })
          // Known from the start (not from the handler's log, which a slow start could push past the timeout).
          await until(() => sandboxesOf(job.id).length === 1, 20_000, 'the sandbox to start')
          const where = sandboxesOf(job.id)[0]!
          await settled(job.id)
          const detail = await docket.getJob(job.id)
          assert.equal(detail.status, 'failed')
          assert.match(detail.lastError!.message, /timed out after 1000 ms/)
          await until(() => sandboxesOf(job.id).length === 0, 10_000, 'the sandbox to exit')
          if (isolation === 'process') assert.equal(processExists(where.pid!), false, 'the process is gone')
        })

        it('terminates a cancelled handler: its sandbox is gone and the job stays cancelled', async () => {
          await docket.createQueue({ name: q('cancel') })
          const handlerName = isolation === 'process' ? 'spawnAndSpin' : 'spinForever'
          await start(q('cancel'), { spin: handler(isolation, handlerName) })
          const job = await docket.add(q('cancel'), 'spin', {})
          const where = await spinning(job.id)
          assert.equal(sandboxesOf(job.id).length, 1)
          await docket.cancelJob(job.id)
          await until(() => sandboxesOf(job.id).length === 0, 10_000, 'the sandbox to exit')
          if (isolation === 'process') {
            assert.equal(processExists(where.pid), false, 'the process is gone')
            // And what it started, killed with its process group.
            await until(() => !processExists(where.grandchild!), 10_000, 'the process it started to exit')
          }
          assert.equal((await docket.getJob(job.id)).status, 'cancelled')
        })

        it('terminates a handler still running when close() outlasts its grace, and releases the job', async () => {
          await docket.createQueue({ name: q('shutdown') })
          const w = await start(
            q('shutdown'),
            { spin: handler(isolation, 'spinForever') },
            { shutdownGraceMs: 100 },
          )
          const job = await docket.add(q('shutdown'), 'spin', {})
          await spinning(job.id)
          await w.close()
          await until(() => sandboxesOf(job.id).length === 0, 10_000, 'the sandbox to exit')
          const detail = await docket.getJob(job.id)
          assert.equal(detail.status, 'waiting', 'released, to run again at once')
        })

        if (isolation === 'process') {
          it('does not outlive its worker: a spinning sandbox whose worker was killed ends too', async () => {
            await docket.createQueue({ name: q('orphan') })
            const job = await docket.add(q('orphan'), 'spin', {})
            const parent = fork(
              new URL('./fixtures/sandbox-parent.ts', import.meta.url),
              [target.url, q('orphan')],
              {
                execArgv: ['--import', 'tsx'],
                stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
              },
            )
            const exited = new Promise((resolve) => parent.once('exit', resolve))
            const where = await spinning(job.id)
            assert.ok(processExists(where.pid))
            parent.kill('SIGKILL')
            await exited
            // The sandbox's CPU-bound loop never yields to notice; its watchdog thread does.
            await until(() => !processExists(where.pid), 10_000, 'the orphaned sandbox to exit')
          })
        }

        it('fails the attempt of a handler that outgrows maxMemoryMb, and the worker goes on', async () => {
          await docket.createQueue({ name: q('memory'), maxAttempts: 1 })
          await start(q('memory'), {
            hoard: sandboxed(FIXTURE, { isolation, export: 'hoard', maxMemoryMb: 64 }),
            ok: () => 'still here',
          })
          const hoard = await docket.add(q('memory'), 'hoard', {})
          await settled(hoard.id, 60_000)
          const failed = await docket.getJob(hoard.id)
          assert.equal(failed.status, 'failed')
          assert.match(
            failed.lastError!.message,
            isolation === 'thread' ? /memory limit/ : /stopped before it finished: its process exited/,
          )
          const ok = await docket.add(q('memory'), 'ok', {})
          await settled(ok.id)
          assert.equal((await docket.getJob(ok.id)).result, 'still here')
        })

        it('fails the attempt with what the handler threw, its crash, or a module that cannot load', async () => {
          await docket.createQueue({
            name: q('errors'),
            maxAttempts: 2,
            backoff: { type: 'fixed', delayMs: 20 },
          })
          // A long lease: this test is about what each failure records, and in CI (four files at once on
          // two cores) a 30 s lease of the retried job ran out before its second sandbox reported (an
          // attempt recorded as LeaseExpired), twice in three full runs; alone and under CPU load it passes.
          await start(
            q('errors'),
            {
              fails: handler(isolation, 'fails'),
              fatal: handler(isolation, 'fatal'),
              crash: handler(isolation, 'crash'),
              missing: handler(isolation, 'noSuchExport'),
              notAFunction: handler(isolation, 'notAFunction'),
            },
            { leaseMs: 120_000 },
          )
          const jobs = await docket.addMany(
            ['fails', 'fatal', 'crash', 'missing', 'notAFunction'].map((type) => ({
              queue: q('errors'),
              type,
            })),
          )
          for (const j of jobs) await settled(j.id)
          const [fails, fatal, crash, missing, notAFunction] = await Promise.all(
            jobs.map((j) => docket.getJob(j.id)),
          )
          assert.deepEqual(
            [fails!.status, fails!.attempts, fails!.lastError?.message, fails!.lastError?.name],
            ['failed', 2, 'attempt 2 broke', 'TypeError'],
          )
          assert.deepEqual([fatal!.attempts, fatal!.lastError?.retryable], [1, false])
          assert.equal(crash!.attempts, 2, 'a crash is retried')
          assert.match(
            crash!.lastError!.message,
            /stopped before it finished: its (thread|process) exited with code 3/,
          )
          for (const j of [missing!, notAFunction!]) {
            assert.deepEqual([j.status, j.attempts, j.lastError?.retryable], ['failed', 1, false])
            assert.match(j.lastError!.message, /cannot load the sandboxed handler: .* has no function export/)
          }
        })
      })
    }
  })
}
