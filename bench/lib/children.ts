/**
 * Worker processes: bench/child.ts (bundled to plain JavaScript), one system each. The
 * parent sends 'go' and 'stop'; the child reports readiness, how many
 * handlers have run, its peak RSS, and pickup samples.
 */
import { type ChildProcess, fork } from 'node:child_process'
import type { SystemConfig, WorkerSettings } from '../systems/types.js'
import { CHILD_BUNDLE } from './build-child.js'

export interface PickupPlan {
  reps: number
  samples: number
  warmup: number
  /** Pause before each job, so that the worker is idle when it arrives... */
  gapMs: number
  /** ...plus a random part up to this, so that jobs land at random points of any periodic cycle. */
  jitterMs: number
  /** Most time one repetition may take; a slow poller gets fewer samples. */
  capMs: number
}

export interface ChildArgs {
  mode: 'worker' | 'pickup' | 'baseline'
  system: SystemConfig
  settings: WorkerSettings
  pickup?: PickupPlan
}

export type ChildMessage =
  | { type: 'ready' }
  | { type: 'processed'; n: number }
  | { type: 'stopped'; maxRssKb: number }
  | { type: 'pickup'; reps: number[][]; maxRssKb: number }
  | { type: 'baseline'; maxRssKb: number }
  | { type: 'error'; message: string }

export class Child {
  readonly process: ChildProcess
  processed = 0
  #waiters: { type: ChildMessage['type']; resolve: (m: ChildMessage) => void }[] = []
  #failure: Error | null = null

  constructor(args: ChildArgs) {
    // BENCH_CPU_PROF=dir writes a V8 CPU profile of every worker process there (for profiling by hand).
    const prof = process.env.BENCH_CPU_PROF
    // Plain JavaScript (see build-child.ts): built by buildChild() before the first fork.
    this.process = fork(CHILD_BUNDLE, [JSON.stringify(args)], {
      execArgv: prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.process.on('message', (m: ChildMessage) => {
      if (m.type === 'processed') this.processed = m.n
      if (m.type === 'error') this.#fail(new Error(`${args.system.id} worker: ${m.message}`))
      for (const w of this.#waiters.filter((w) => w.type === m.type)) w.resolve(m)
      this.#waiters = this.#waiters.filter((w) => w.type !== m.type)
    })
    this.process.on('exit', (code, signal) => {
      this.#failure ??= new Error(`${args.system.id} worker exited (${code ?? signal})`)
      this.#fail(this.#failure)
    })
  }

  /** Set once the child reported an error or exited. */
  get failure(): Error | null {
    return this.#failure
  }

  #fail(error: Error): void {
    this.#failure = error
    for (const w of this.#waiters) w.resolve({ type: 'error', message: error.message })
    this.#waiters = []
  }

  /** The next message of this type; rejects if the child fails or says nothing within `timeoutMs`. */
  async next<T extends ChildMessage['type']>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<ChildMessage, { type: T }>> {
    if (this.#failure) throw this.#failure
    let timer: NodeJS.Timeout | undefined
    const message = await new Promise<ChildMessage>((resolve) => {
      this.#waiters.push({ type, resolve })
      timer = setTimeout(
        () => resolve({ type: 'error', message: `no '${type}' within ${timeoutMs} ms` }),
        timeoutMs,
      )
    }).finally(() => clearTimeout(timer))
    if (message.type === 'error') throw new Error(message.message)
    return message as Extract<ChildMessage, { type: T }>
  }

  send(message: 'go' | 'stop'): void {
    this.process.send(message)
  }

  /** Asks the child to stop and returns its peak RSS; kills it if it does not stop in time. */
  async stop(timeoutMs = 20_000): Promise<number | null> {
    if (this.process.exitCode !== null) return null
    const exited = new Promise((r) => this.process.once('exit', r))
    try {
      this.send('stop')
      const { maxRssKb } = await this.next('stopped', timeoutMs)
      await exited
      return maxRssKb
    } catch {
      this.process.kill('SIGKILL')
      await exited
      return null
    }
  }
}
