/**
 * Sandboxed handlers: a handler module run in a worker thread or a child
 * process, so CPU-bound work (parsing, OCR, rendering) cannot block the
 * worker's event loop, where heartbeats, cancels and other jobs' writes are
 * served; and so a timeout, a cancel, a lost lease or a shutdown can stop it
 * for real, by terminating the thread or killing the process.
 *
 *   handlers: { render: sandboxed(new URL('./render.js', import.meta.url), { isolation: 'process' }) }
 *
 * `sandboxed()` returns an ordinary Handler: the executor runs it like any
 * other, with the job's context; this file turns each call into one sandbox
 * (sandbox-runtime.ts inside), forwards the sandbox's context calls to that
 * context (progress, steps, logs, files), and terminates the sandbox when the
 * handler is done or the context's signal fires. Each attempt gets a fresh
 * sandbox: nothing leaks from one job into the next, at the start-up cost
 * docs/workers.md measures.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { resolve as resolvePath } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker as Thread } from 'node:worker_threads'
import { invalidArgument } from '../core/errors.js'
import type { ClaimedJob } from '../core/types.js'
import { UnrecoverableError } from '../docket/types.js'
import type { Artifact } from '../storage/store.js'
import type { JobContext } from './context.js'
import type { Handler } from './options.js'
import { asBuffer, type FromSandbox, type ToSandbox, type WireError } from './sandbox-protocol.js'

export type Isolation = 'thread' | 'process'

export interface SandboxOptions {
  /**
   * 'thread' (default): a worker thread of this process; starts in tens of
   * milliseconds and shares the process's memory limit. 'process': a child
   * process of its own, with its own memory, killed with everything it started.
   */
  isolation?: Isolation
  /** The module's export to call. Default 'default'. */
  export?: string
  /**
   * The sandbox's JavaScript heap limit, in MiB (a thread's
   * `maxOldGenerationSizeMb`, a process's `--max-old-space-size`). A handler
   * that outgrows it fails its attempt; the worker is untouched. Default: Node's.
   */
  maxMemoryMb?: number
}

/** A sandbox running now: its kind, and its process id or thread id. For tests and diagnostics. */
export interface SandboxInfo {
  isolation: Isolation
  jobId: string
  pid?: number
  threadId?: number
}

const live = new Set<SandboxInfo>()

/** The sandboxes whose thread or process has not exited yet. */
export function liveSandboxes(): SandboxInfo[] {
  return [...live]
}

/**
 * A handler that runs `module`'s export (`export`, default 'default') in a
 * worker thread or child process. The export is called as a handler is,
 * `(job, ctx)`, and its `ctx` does what a handler's does, through the worker.
 * A relative path is resolved against the current directory: prefer
 * `new URL('./handler.js', import.meta.url)`.
 */
export function sandboxed<Payload = unknown, Result = unknown>(
  module: string | URL,
  options: SandboxOptions = {},
): Handler<Payload, Result> {
  const href = moduleHref(module)
  const isolation = options.isolation ?? 'thread'
  if (isolation !== 'thread' && isolation !== 'process') {
    throw invalidArgument(`isolation must be 'thread' or 'process', got ${JSON.stringify(isolation)}`, [
      { path: 'isolation', message: "expected 'thread' | 'process'" },
    ])
  }
  const name = options.export ?? 'default'
  if (typeof name !== 'string' || name.length === 0) {
    throw invalidArgument('export must be the name of the module’s export', [
      { path: 'export', message: 'expected a non-empty string' },
    ])
  }
  // The module's types are out of the compiler's sight: Payload and Result are taken from where the
  // handler is used (a Worker<Tasks>'s handler for that type), and the result is checked at run time.
  const maxMemoryMb = options.maxMemoryMb ?? null
  if (maxMemoryMb !== null && !(Number.isInteger(maxMemoryMb) && maxMemoryMb >= 16)) {
    throw invalidArgument('maxMemoryMb must be a whole number of MiB, at least 16', [
      { path: 'maxMemoryMb', message: 'expected an integer >= 16' },
    ])
  }
  const spec: Spec = { module: href, export: name, isolation, maxMemoryMb }
  return (job, ctx) => runSandboxed(spec, job, ctx as JobContext) as Promise<Result>
}

function moduleHref(module: string | URL): string {
  if (module instanceof URL) return module.href
  if (typeof module !== 'string' || module.length === 0) {
    throw invalidArgument('the handler module must be a path or a URL', [
      { path: 'module', message: 'expected a path or a file: URL' },
    ])
  }
  return /^(file|data):/.test(module) ? module : pathToFileURL(resolvePath(module)).href
}

/** The runtime beside this file: .ts when running from source (tests, tsx), .js when built. */
const RUNTIME = new URL(
  `./sandbox-runtime${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
)

/** One sandbox: a thread or a process, spoken to in the same messages. */
interface Sandbox {
  info: SandboxInfo
  send(message: ToSandbox): void
  /** Ends it now: a thread is terminated, a process (and every process it started) killed. */
  kill(): void
  exited: Promise<string>
}

function startSandbox(spec: Spec, jobId: string, onMessage: (m: FromSandbox) => void): Sandbox {
  return spec.isolation === 'thread'
    ? startThread(spec, jobId, onMessage)
    : startProcess(spec, jobId, onMessage)
}

function startThread(spec: Spec, jobId: string, onMessage: (m: FromSandbox) => void): Sandbox {
  const thread = new Thread(
    RUNTIME,
    spec.maxMemoryMb === null ? {} : { resourceLimits: { maxOldGenerationSizeMb: spec.maxMemoryMb } },
  )
  const info: SandboxInfo = { isolation: 'thread', jobId, threadId: thread.threadId }
  live.add(info)
  thread.on('message', onMessage)
  let crash: Error | null = null
  // An error the handler left uncaught (a throw in a timer, an unhandled rejection) ends the thread.
  thread.on('error', (e) => {
    crash = e
  })
  const exited = new Promise<string>((resolve) =>
    thread.once('exit', (code) => {
      live.delete(info)
      resolve(crash ? `its thread crashed: ${crash.message}` : `its thread exited with code ${code}`)
    }),
  )
  return {
    info,
    send: (m) => thread.postMessage(m),
    kill: () => void thread.terminate(),
    exited,
  }
}

/** The parent's own flags, less those a child must not repeat (the test runner's, an inspector's port). */
const childExecArgv = () => process.execArgv.filter((a) => !/^--(test|inspect|watch)/.test(a))

function startProcess(spec: Spec, jobId: string, onMessage: (m: FromSandbox) => void): Sandbox {
  const memory = spec.maxMemoryMb === null ? [] : [`--max-old-space-size=${spec.maxMemoryMb}`]
  const child: ChildProcess = fork(RUNTIME, [], {
    execArgv: [...childExecArgv(), ...memory],
    serialization: 'advanced',
    // Its own process group, so a kill reaches whatever the handler started (ffmpeg, a renderer).
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const info: SandboxInfo = { isolation: 'process', jobId, pid: child.pid }
  live.add(info)
  child.on('message', (m) => onMessage(m as FromSandbox))
  let spawnError: Error | null = null
  child.on('error', (e) => {
    spawnError = e
  })
  child.once('exit', () => live.delete(info))
  // 'close', not 'exit': it comes after the last IPC message, so a result sent just before the end is not lost.
  const exited = new Promise<string>((resolve) =>
    child.once('close', (code, signal) => {
      resolve(
        spawnError
          ? `its process failed: ${spawnError.message}`
          : `its process exited with ${signal ? `signal ${signal}` : `code ${code}`}`,
      )
    }),
  )
  return {
    info,
    send: (m) => {
      if (child.connected) child.send(m)
    },
    kill: () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
      } catch {
        child.kill('SIGKILL') // the group is gone already, or was never made
      }
    },
    exited,
  }
}

interface Spec {
  module: string
  export: string
  isolation: Isolation
  maxMemoryMb: number | null
}

/** Runs one attempt in a fresh sandbox; settles when the handler is done, or rejects when it fails or is stopped. */
function runSandboxed(spec: Spec, job: ClaimedJob, ctx: JobContext): Promise<unknown> {
  if (ctx.signal.aborted) return Promise.reject(ctx.signal.reason)
  return new Promise((resolve, reject) => {
    const steps = new Map<number, { end(error: WireError | null): void; settled: Promise<void> }>()
    let finished = false
    const finish = (settle: () => void) => {
      if (finished) return
      finished = true
      ctx.signal.removeEventListener('abort', onAbort)
      sandbox.kill()
      // Steps the sandbox never ended end with it (recorded as failed while the lease still holds).
      for (const step of steps.values())
        step.end({ name: 'Error', message: 'the sandbox ended during this step' })
      steps.clear()
      settle()
    }
    const onAbort = () => {
      const reason = ctx.signal.reason as { reason?: string; message?: string }
      sandbox.send({
        kind: 'abort',
        reason: String(reason?.reason ?? 'aborted'),
        message: String(reason?.message),
      })
      finish(() => reject(ctx.signal.reason))
    }
    const sandbox = startSandbox(spec, job.id, (message) => {
      if (finished) return
      if (message.kind === 'done') finish(() => resolve(message.result))
      else if (message.kind === 'failed') finish(() => reject(rebuild(message.error)))
      else if (message.kind === 'call') {
        answer(message.method, message.args).then(
          (value) => sandbox.send({ kind: 'reply', id: message.id, ok: true, value }),
          (error) =>
            sandbox.send({
              kind: 'reply',
              id: message.id,
              ok: false,
              error: {
                name: error?.name ?? 'Error',
                message: String(error?.message ?? error),
                code: error?.code,
              },
            }),
        )
      }
    })
    ctx.signal.addEventListener('abort', onAbort, { once: true })
    sandbox.send({ kind: 'run', module: spec.module, export: spec.export, job })
    void sandbox.exited.then((why) =>
      finish(() => reject(new Error(`the sandboxed handler stopped before it finished: ${why}`))),
    )

    /** A context call from the sandbox, made on the job's real context. */
    function answer(method: string, args: unknown[]): Promise<unknown> {
      switch (method) {
        case 'progress':
          return ctx.progress(args[0] as number, args[1] as string | undefined)
        case 'log':
          return ctx.log(args[0] as string, args[1])
        case 'stepStart':
          return startStep(args[0] as number, args[1] as string)
        case 'stepEnd': {
          const step = steps.get(args[0] as number)
          if (!step) return Promise.reject(new Error(`no step ${args[0]} was started`))
          steps.delete(args[0] as number)
          step.end(args[1] as WireError | null)
          return step.settled
        }
        case 'artifacts':
          return ctx.artifacts()
        case 'readArtifact':
          return ctx.readArtifact(args[0] as Artifact)
        case 'upstream':
          return ctx.upstream()
        case 'snooze':
          return ctx.snooze(args[0] as number)
        case 'saveOutput': {
          const file = args[0] as { name: string; mediaType: string; data: unknown }
          return ctx.saveOutput({ ...file, data: asBuffer(file.data) as Buffer | string })
        }
        default:
          return Promise.reject(new Error(`unknown context method '${method}'`))
      }
    }

    /**
     * Runs the parent's ctx.step around the sandbox's step, so it is recorded
     * (and progress inside it names it) exactly as in-process. Resolves once
     * the start is recorded; `settled` once the end is.
     */
    function startStep(id: number, name: string): Promise<void> {
      return new Promise((started, refused) => {
        let end!: (error: WireError | null) => void
        const body = new Promise<void>((ok, failed) => {
          end = (error) => (error ? failed(rebuild(error)) : ok())
        })
        const settled = ctx
          .step(name, () => {
            started()
            return body
          })
          .catch(() => {}) // a failed step is the sandbox's error to throw, and it has it already
        steps.set(id, { end, settled })
        // Refused before the body ran (the lease is gone): the sandbox hears it from stepStart.
        settled.then(() => refused(new Error(`step '${name}' could not start`)))
      })
    }
  })
}

/** An error from the sandbox, thrown again here; an UnrecoverableError stays one, and so does a module that cannot load. */
function rebuild(wire: WireError): Error {
  const error: Error & { code?: string } =
    wire.unrecoverable || wire.loading
      ? new UnrecoverableError(
          wire.loading ? `cannot load the sandboxed handler: ${wire.message}` : wire.message,
        )
      : new Error(wire.message)
  if (!wire.unrecoverable && !wire.loading && wire.name !== 'Error') {
    Object.defineProperty(error, 'name', { value: wire.name, configurable: true, writable: true })
  }
  if (wire.stack) error.stack = wire.stack
  if (wire.code) error.code = wire.code
  return error
}
