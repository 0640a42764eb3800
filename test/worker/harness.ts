import { type ChildProcess, fork } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { after, before } from 'node:test'
import { Docket, type Worker } from '../../src/index.js'
import { type ProducerSignal, producerSignals } from '../../src/worker/producer.js'
import { type Driver, sleep, until } from '../support/helpers.js'

export { type Driver, sleep, until }

/**
 * Resolves once a worker serving `queue` has claimed with a claim begun after
 * this call and gone back to sleep: it looked at the queue as it is now, and
 * what it left there it leaves until woken. (The producer's `sleeping` signal:
 * the first one heard may close a claim begun before the call, so the second.)
 */
export function nextIdle(queue: string, timeoutMs = 10_000): Promise<ProducerSignal> {
  return new Promise((resolve, reject) => {
    let heard = 0
    const listener = (signal: ProducerSignal) => {
      if (!signal.queues.includes(queue) || ++heard < 2) return
      done()
      resolve(signal)
    }
    const timer = setTimeout(() => {
      done()
      reject(new Error(`no worker serving ${queue} went back to sleep within ${timeoutMs} ms`))
    }, timeoutMs)
    const done = () => {
      clearTimeout(timer)
      producerSignals.off('sleeping', listener)
    }
    producerSignals.on('sleeping', listener)
  })
}

export interface Target {
  url: string
  cleanup(): Promise<void>
}

/** A fresh, empty database of the given driver. */
export async function freshTarget(driver: Driver): Promise<Target> {
  if (driver === 'postgres') {
    const { freshPostgresSchema } = await import('../support/postgres.js')
    const pg = await freshPostgresSchema()
    return { url: pg.url, cleanup: () => pg.drop() }
  }
  const dir = mkdtempSync(join(tmpdir(), 'docket-worker-test-'))
  return { url: join(dir, 'docket.db'), cleanup: async () => rmSync(dir, { recursive: true, force: true }) }
}

/** What useWorkerDocket fills in once its before() hook has run. */
export interface WorkerDocket {
  target: Target
  docket: Docket
  /** Workers a test started; each is closed when the suite ends. */
  workers: Worker[]
}

/**
 * Registers before/after hooks in the calling describe(): a fresh database
 * and a Docket on it, and at the end every worker in `workers` closed, then
 * the Docket, then the database dropped.
 */
export function useWorkerDocket(driver: Driver): WorkerDocket {
  const t = { workers: [] as Worker[] } as WorkerDocket
  before(async () => {
    t.target = await freshTarget(driver)
    t.docket = await Docket.open(t.target.url)
  })
  after(async () => {
    await Promise.all(t.workers.map((w) => w.close()))
    await t.docket?.close()
    await t.target?.cleanup()
  })
  return t
}

export interface WorkerProcess {
  child: ChildProcess
  /** Job ids whose handler started in this process. */
  started: string[]
  stop(): Promise<void>
  kill(): Promise<void>
}

export interface WorkerProcessConfig {
  url: string
  queues: string[]
  concurrency: number
  workMs: number
  id: string
  leaseMs?: number
  capabilities?: string[]
  poisonType?: string
}

/** Starts test/worker/fixtures/worker-process.ts and waits until its worker runs. */
export async function spawnWorker(
  config: WorkerProcessConfig,
  onStarted?: (jobId: string, workerId: string) => void,
): Promise<WorkerProcess> {
  const child = fork(join(import.meta.dirname, 'fixtures', 'worker-process.ts'), [JSON.stringify(config)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const started: string[] = []
  child.on('message', (m) => {
    if (typeof m === 'object' && m !== null && 'started' in m) onStarted?.(String(m.started), config.id)
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m) => {
      if (m === 'ready') resolve()
      else if (typeof m === 'object' && m !== null && 'started' in m) started.push(String(m.started))
    })
    child.once('exit', (code) => reject(new Error(`worker ${config.id} exited early with ${code}`)))
  })
  return {
    child,
    started,
    async stop() {
      child.kill('SIGTERM')
      await exited
    },
    async kill() {
      child.kill('SIGKILL')
      await exited
    },
  }
}
