/**
 * `RemoteWorker`: the HTTP twin of `Worker`, for a TypeScript process that
 * works for a Docket server it cannot reach by database. The same handler
 * signature (`(job, ctx) => result`) and the same context verbs, over the
 * remote-worker protocol of docs/remote-workers.md:
 *
 *   register      POST /workers, then a worker heartbeat every few seconds
 *                 (registering again if the server marked it lost)
 *   claim         long polls of POST /workers/{id}/claim for the free slots
 *   run           the handler, with a lease heartbeat every leaseMs / 3; a
 *                 LEASE_LOST answer aborts ctx.signal (`cancelled` when the
 *                 job was cancelled, else `lease-lost`) and later reports
 *                 are dropped
 *   finish        complete, or fail (UnrecoverableError: no retry;
 *                 RetryAfterError: retry then)
 *   close         stops claiming, lets running jobs finish for shutdownGraceMs,
 *                 aborts the rest and deregisters, which hands back every
 *                 job still held
 *
 * `fetch` only, like the client: no Node built-ins.
 */
import { DocketError, isDocketError } from '../core/errors.js'
import { RetryAfterError, UnrecoverableError } from '../docket/types.js'
import { type AbortReason, JobAbortedError, JobSnoozedError, untilAborted } from '../worker/abort.js'
import type { Artifact, ClaimedJob, DocketClient } from './client.js'
import { unwrap } from './http.js'

/** A claimed job as a remote worker has it (the API's ClaimedJob), its payload typed. */
export type RemoteJob<Payload = unknown> = Omit<ClaimedJob, 'payload'> & { payload: Payload }

export interface RemoteJobContext<Payload = unknown> {
  job: RemoteJob<Payload>
  /** 1 on the first attempt. */
  attempt: number
  /** Fires when the job is cancelled, its lease is lost, its timeout passes or the worker shuts down. */
  signal: AbortSignal
  progress(percent: number, message?: string): Promise<void>
  /** Runs `fn` as a named step: records its start, then its completion or failure with the duration. */
  step<T>(name: string, fn: () => Promise<T> | T): Promise<T>
  log(message: string, data?: unknown): Promise<void>
  /** The job's files: its inputs, and the outputs saved so far. */
  artifacts(): Promise<Artifact[]>
  readArtifact(artifact: Pick<Artifact, 'id'>): Promise<Uint8Array>
  /** Stores an output file of this job (while the lease holds). */
  saveOutput(file: { name: string; data: Blob | Uint8Array | string; mediaType?: string }): Promise<Artifact>
  /** Runs the job again after `ms` without spending this attempt, and ends the handler: `return ctx.snooze(60_000)`. */
  snooze(ms: number): Promise<never>
  /** The jobs this one depends on, each with its status and (once completed) result. */
  upstream<Result = unknown>(): Promise<
    { id: string; type: string; status: string; on: string; result: Result | null }[]
  >
}

export type RemoteHandler<Payload = unknown, Result = unknown> = (
  job: RemoteJob<Payload>,
  ctx: RemoteJobContext<Payload>,
) => Promise<Result> | Result

export interface RemoteWorkerOptions {
  queues: string[]
  /** A handler per job type, or one function for every type. */
  // biome-ignore lint/suspicious/noExplicitAny: each handler names its own payload type
  handlers: Record<string, RemoteHandler<any, unknown>> | RemoteHandler<any, unknown>
  /** Jobs run at once. Default 5. */
  concurrency?: number
  capabilities?: string[]
  /** The kind of machine, such as 'cpu' or 'gpu'. Default 'cpu'. */
  kind?: string
  /** The worker's id in the registry; made up by the server when left out. */
  id?: string
  /** Lease length. Default 30 s. */
  leaseMs?: number
  /** How long one claim waits for a job (the server's long poll, at most 30 s). Default 20 s. */
  waitMs?: number
  /** How long close() lets running jobs finish before aborting them. Default 10 s. */
  shutdownGraceMs?: number
  /** Called with every error in the worker itself (a claim or a report that failed). Default: console.error. */
  onError?: (error: unknown, job?: RemoteJob) => void
}

const WORKER_HEARTBEAT_MS = 5_000
/** How long a finished job's completion waits for others to share its request. */
const COMPLETION_BATCH_MS = 20
/** The bulk route's most items per request. */
const COMPLETION_BATCH_MAX = 500

interface Completion {
  id: string
  token: string
  result: unknown
}

/**
 * Completions, batched: a finished job's slot frees at once, and its
 * completion goes with the next claim (`complete: [...]`, one round trip for
 * both) or, when no claim is about to go, with others in one
 * POST /jobs/complete after COMPLETION_BATCH_MS. A completion the server
 * answers LEASE_LOST for (cancelled meanwhile, or a resend it had applied)
 * is dropped, as the single route's answer would be.
 */
class CompletionBuffer {
  #pending: Completion[] = []
  #timer: ReturnType<typeof setTimeout> | null = null
  #flushing: Promise<void> = Promise.resolve()

  constructor(
    private readonly client: DocketClient,
    private readonly report: (error: unknown) => void,
  ) {}

  add(item: Completion): void {
    this.#pending.push(item)
    if (this.#pending.length >= COMPLETION_BATCH_MAX) void this.flush()
    else this.#timer ??= setTimeout(() => void this.flush(), COMPLETION_BATCH_MS)
  }

  /** The completions waiting, handed to a claim that carries them. */
  take(): Completion[] {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    return this.#pending.splice(0, COMPLETION_BATCH_MAX)
  }

  /** Sends what waits now; resolves once every send so far has been answered. */
  flush(): Promise<void> {
    const items = this.take()
    if (items.length > 0) {
      this.#flushing = this.#flushing.then(() =>
        unwrap(this.client.api.POST('/api/v1/jobs/complete', { body: { items } })).then(
          () => {},
          (error) => this.report(error),
        ),
      )
    }
    if (this.#pending.length > 0) return this.flush()
    return this.#flushing
  }
}

export class RemoteWorker {
  #id: string | null
  readonly #client: DocketClient
  readonly #o: Required<Omit<RemoteWorkerOptions, 'id' | 'onError'>> & Pick<RemoteWorkerOptions, 'onError'>
  readonly #running = new Map<string, Run>()
  #state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle'
  #loop: Promise<void> | null = null
  #heartbeat: ReturnType<typeof setInterval> | null = null
  #claimAbort = new AbortController()
  #slotFreed: (() => void) | null = null
  readonly #completions: CompletionBuffer

  constructor(client: DocketClient, options: RemoteWorkerOptions) {
    if (!Array.isArray(options.queues) || options.queues.length === 0) {
      throw new DocketError('INVALID_ARGUMENT', 'name at least one queue', {
        issues: [{ path: 'queues', message: 'name at least one queue' }],
      })
    }
    this.#client = client
    this.#completions = new CompletionBuffer(client, (e) => this.#report(e))
    this.#id = options.id ?? null
    this.#o = {
      queues: options.queues,
      handlers: options.handlers,
      concurrency: options.concurrency ?? 5,
      capabilities: options.capabilities ?? [],
      kind: options.kind ?? 'cpu',
      leaseMs: options.leaseMs ?? 30_000,
      waitMs: Math.min(options.waitMs ?? 20_000, 30_000),
      shutdownGraceMs: options.shutdownGraceMs ?? 10_000,
      onError: options.onError,
    }
  }

  /** The worker's id in the registry, once started. */
  get id(): string | null {
    return this.#id
  }

  /** How many jobs run now. */
  get running(): number {
    return this.#running.size
  }

  /** Registers, then claims and runs jobs until close(). Resolves once registered. */
  async start(): Promise<this> {
    if (this.#state !== 'idle') throw new DocketError('INVALID_STATE', `the worker is ${this.#state}`)
    await this.#register()
    this.#state = 'running'
    this.#heartbeat = setInterval(() => void this.#workerHeartbeat(), WORKER_HEARTBEAT_MS)
    this.#loop = this.#claimLoop()
    return this
  }

  /** Stops claiming, waits up to shutdownGraceMs for running jobs, aborts the rest, deregisters (handing back what it holds). */
  async close(): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'idle') {
      this.#state = 'stopped'
      return
    }
    if (this.#state === 'stopping') return this.#loop?.then(() => {})
    this.#state = 'stopping'
    this.#claimAbort.abort()
    this.#slotFreed?.()
    await this.#loop
    const finished = Promise.all([...this.#running.values()].map((r) => r.done))
    const grace = new Promise<'late'>((r) => setTimeout(() => r('late'), this.#o.shutdownGraceMs))
    if ((await Promise.race([finished, grace])) === 'late') {
      for (const run of this.#running.values()) run.abort('shutdown', 'the worker is shutting down')
      await finished
    }
    if (this.#heartbeat) clearInterval(this.#heartbeat)
    await unwrap(
      this.#client.api.DELETE('/api/v1/workers/{id}', { params: { path: { id: this.#id! } } }),
    ).catch((e) => this.#report(e))
    this.#state = 'stopped'
  }

  async #register(): Promise<void> {
    const body = {
      queues: this.#o.queues,
      kind: this.#o.kind,
      capabilities: this.#o.capabilities,
      concurrency: this.#o.concurrency,
      ...(this.#id ? { id: this.#id } : {}),
    }
    const { id } = await unwrap(this.#client.api.POST('/api/v1/workers', { body }))
    this.#id = id
  }

  async #workerHeartbeat(): Promise<void> {
    try {
      await unwrap(
        this.#client.api.POST('/api/v1/workers/{id}/heartbeat', {
          params: { path: { id: this.#id! } },
          body: { load: this.#running.size },
        }),
      )
    } catch (error) {
      // Marked lost (a long pause, a partition): register again, with the same id.
      if (isDocketError(error, 'NOT_FOUND') && this.#state === 'running')
        await this.#register().catch(() => {})
      else this.#report(error)
    }
  }

  async #claimLoop(): Promise<void> {
    let pause = 100
    while (this.#state === 'running') {
      const free = this.#o.concurrency - this.#running.size
      if (free <= 0) {
        await new Promise<void>((r) => {
          this.#slotFreed = r
        })
        this.#slotFreed = null
        continue
      }
      const complete = this.#completions.take()
      try {
        const answer = await this.#client.api.POST('/api/v1/workers/{id}/claim', {
          params: { path: { id: this.#id! } },
          body: {
            queues: this.#o.queues,
            limit: free,
            leaseMs: this.#o.leaseMs,
            // Waiting for a job would hold the completions back: a claim that carries some does not wait.
            waitMs: complete.length > 0 ? 0 : this.#o.waitMs,
            ...(complete.length > 0 ? { complete } : {}),
          },
          signal: this.#claimAbort.signal,
        })
        const { jobs, retryAfterMs } = await unwrap(Promise.resolve(answer))
        pause = 100
        for (const job of jobs) this.#run(job)
        if (jobs.length === 0 && retryAfterMs) await this.#sleep(Math.min(retryAfterMs, 30_000))
      } catch (error) {
        if (this.#state !== 'running') return
        if (
          isDocketError(error, 'NOT_FOUND') &&
          (error.details as { resource?: string }).resource === 'worker'
        ) {
          await this.#register().catch((e) => this.#report(e))
        } else this.#report(error)
        await this.#sleep(pause)
        pause = Math.min(5_000, pause * 2)
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.#claimAbort.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer)
          resolve()
        },
        { once: true },
      )
    })
  }

  #run(job: ClaimedJob): void {
    const run = new Run(job, this.#client, this.#o, this.#completions, (e) => this.#report(e, job))
    this.#running.set(job.id, run)
    void run.done.finally(() => {
      this.#running.delete(job.id)
      this.#slotFreed?.()
    })
  }

  #report(error: unknown, job?: RemoteJob): void {
    if (this.#o.onError) this.#o.onError(error, job)
    else console.error('docket remote worker:', error)
  }
}

/** One claimed job being run: its handler, its lease heartbeat, and its one report at the end. */
class Run {
  readonly #controller = new AbortController()
  readonly done: Promise<void>
  readonly #token: string

  constructor(
    readonly job: ClaimedJob,
    private readonly client: DocketClient,
    private readonly o: { handlers: RemoteWorkerOptions['handlers']; leaseMs: number },
    private readonly completions: CompletionBuffer,
    private readonly report: (error: unknown) => void,
  ) {
    this.#token = job.lease.token
    this.done = this.#execute()
  }

  abort(reason: AbortReason, message: string): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(new JobAbortedError(reason, message))
  }

  get #lost(): boolean {
    const reason = this.#controller.signal.reason as JobAbortedError | undefined
    return reason?.reason === 'cancelled' || reason?.reason === 'lease-lost'
  }

  /** A report under the lease; once the lease is gone, dropped (and a LEASE_LOST answer ends the run). */
  async #leased<T>(call: () => Promise<T>): Promise<T | undefined> {
    if (this.#lost) return undefined
    try {
      return await call()
    } catch (error) {
      if (isDocketError(error, 'LEASE_LOST')) {
        this.#leaseLost(error)
        return undefined
      }
      throw error
    }
  }

  #leaseLost(error: DocketError): void {
    const reason = (error.details as { reason?: string }).reason
    this.abort(reason === 'cancelled' ? 'cancelled' : 'lease-lost', error.message)
  }

  async #execute(): Promise<void> {
    const heartbeat = setInterval(() => void this.#heartbeat(), Math.max(50, Math.floor(this.o.leaseMs / 3)))
    const timeout =
      this.job.timeoutMs == null
        ? null
        : setTimeout(
            () => this.abort('timeout', `timed out after ${this.job.timeoutMs} ms`),
            this.job.timeoutMs,
          )
    const snoozed = { value: false }
    try {
      const handler = handlerFor(this.o.handlers, this.job.type)
      if (!handler)
        throw new UnrecoverableError(`no handler for job type '${this.job.type}' on this remote worker`)
      const result = await untilAborted(
        Promise.resolve().then(() => handler(this.job, this.#context(snoozed))),
        this.#controller.signal,
      )
      if (snoozed.value || this.#lost) return
      this.completions.add({ id: this.job.id, token: this.#token, result: result ?? null })
    } catch (error) {
      if (snoozed.value) return
      const failure = this.#controller.signal.aborted ? this.#controller.signal.reason : error
      await this.#fail(failure).catch((e) => this.report(e))
    } finally {
      clearInterval(heartbeat)
      if (timeout) clearTimeout(timeout)
    }
  }

  async #fail(error: unknown): Promise<void> {
    const reason = error instanceof JobAbortedError ? error.reason : null
    // Cancelled or lost: the lease is gone, nothing to report. Shutdown: deregistering hands it back.
    if (reason === 'cancelled' || reason === 'lease-lost' || reason === 'shutdown') return
    const err = error instanceof Error ? error : new Error(String(error))
    const retryable = !(error instanceof UnrecoverableError)
    const body = {
      token: this.#token,
      error: { message: err.message || err.name, name: err.name, ...(err.stack ? { stack: err.stack } : {}) },
      retryable,
      ...(retryable && error instanceof RetryAfterError ? { retryInMs: error.retryInMs } : {}),
    }
    await this.#leased(() =>
      unwrap(this.client.api.POST('/api/v1/jobs/{id}/fail', { params: { path: { id: this.job.id } }, body })),
    )
  }

  async #heartbeat(): Promise<void> {
    await this.#leased(() =>
      unwrap(
        this.client.api.POST('/api/v1/jobs/{id}/heartbeat', {
          params: { path: { id: this.job.id } },
          body: { token: this.#token, leaseMs: this.o.leaseMs },
        }),
      ),
    ).catch((e) => this.report(e))
  }

  #context(snoozed: { value: boolean }): RemoteJobContext {
    const id = this.job.id
    const path = { path: { id } }
    const token = this.#token
    const lease = { 'x-lease-token': token }
    let step: string | null = null
    const event = (body: {
      kind: 'step.started' | 'step.completed' | 'step.failed' | 'log'
      step?: string
      message?: string
      durationMs?: number
      data?: unknown
    }) =>
      this.#leased(() =>
        unwrap(this.client.api.POST('/api/v1/jobs/{id}/events', { params: path, body: { token, ...body } })),
      )
    return {
      job: this.job,
      attempt: this.job.attempts,
      signal: this.#controller.signal,
      progress: async (percent, message) => {
        await this.#leased(() =>
          unwrap(
            this.client.api.POST('/api/v1/jobs/{id}/progress', {
              params: path,
              body: {
                token,
                percent,
                ...(message !== undefined ? { message } : {}),
                ...(step !== null ? { step } : {}),
              },
            }),
          ),
        )
      },
      step: async (name, fn) => {
        const started = Date.now()
        await event({ kind: 'step.started', step: name })
        const outer = step
        step = name
        try {
          const result = await fn()
          await event({ kind: 'step.completed', step: name, durationMs: Date.now() - started })
          return result
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error)
          await event({ kind: 'step.failed', step: name, durationMs: Date.now() - started, message }).catch(
            () => {},
          )
          throw error
        } finally {
          step = outer
        }
      },
      log: async (message, data) => {
        await event({ kind: 'log', message, ...(data !== undefined ? { data } : {}) })
      },
      artifacts: async () =>
        (await unwrap(this.client.api.GET('/api/v1/jobs/{id}/artifacts', { params: path, headers: lease })))
          .artifacts as Artifact[],
      readArtifact: async (artifact) => {
        const { error, response } = await this.client.api.GET('/api/v1/artifacts/{id}', {
          params: { path: { id: artifact.id } },
          headers: lease,
          parseAs: 'stream',
        })
        if (!response.ok) await unwrap(Promise.resolve({ error, response }))
        return new Uint8Array(await response.arrayBuffer())
      },
      saveOutput: async (file) => {
        const form = new FormData()
        form.set('token', token)
        const type =
          file.mediaType ?? (file.data instanceof Blob ? file.data.type : 'application/octet-stream')
        form.append('file', new Blob([file.data as BlobPart], { type }), file.name)
        const saved = await this.#leased(() =>
          unwrap(
            this.client.api.POST('/api/v1/jobs/{id}/artifacts', {
              params: path,
              body: form as never,
              bodySerializer: (b: unknown) => b as FormData,
            }),
          ),
        )
        if (saved === undefined) throw new JobAbortedError('lease-lost', 'the lease on this job was lost')
        return (saved as { artifacts: Artifact[] }).artifacts[0]!
      },
      snooze: async (ms) => {
        await unwrap(
          this.client.api.POST('/api/v1/jobs/{id}/snooze', { params: path, body: { token, delayMs: ms } }),
        )
        snoozed.value = true
        throw new JobSnoozedError(ms)
      },
      upstream: async <Result>() =>
        (await unwrap(this.client.api.GET('/api/v1/jobs/{id}/upstream', { params: path, headers: lease })))
          .upstream as { id: string; type: string; status: string; on: string; result: Result | null }[],
    }
  }
}

function handlerFor(handlers: RemoteWorkerOptions['handlers'], type: string): RemoteHandler | undefined {
  if (typeof handlers === 'function') return handlers
  return Object.hasOwn(handlers, type) ? handlers[type] : undefined
}
