/**
 * The inside of a sandbox: the entry point of the worker thread or child
 * process that runs one sandboxed handler (sandbox.ts starts it). It loads the
 * handler's module, gives the handler a context whose every method is a call
 * to the parent (where the job's lease, database and files are), and sends
 * back the result or the error. It runs one job; the parent ends it after.
 */
import type { Readable } from 'node:stream'
import { parentPort, Worker as Thread } from 'node:worker_threads'
import type { ClaimedJob } from '../core/types.js'
import type { Artifact } from '../storage/store.js'
import type { JobContext } from './context.js'
import { JobAbortedError } from './context.js'
import {
  asBuffer,
  type ContextMethod,
  type FromSandbox,
  type ToSandbox,
  toWireError,
  type WireError,
} from './sandbox-protocol.js'

interface Channel {
  send(message: FromSandbox): void
  onMessage(listener: (message: ToSandbox) => void): void
}

/** A thread talks through its parentPort; a child process through its IPC channel. */
function channel(): Channel {
  if (parentPort) {
    const port = parentPort
    return { send: (m) => port.postMessage(m), onMessage: (l) => port.on('message', l) }
  }
  if (!process.send) throw new Error('sandbox-runtime runs only as a sandbox of a Docket worker')
  // Orphaned (the worker died): stop too, rather than run on unsupervised.
  process.on('disconnect', () => process.exit(1))
  watchForOrphaning()
  return { send: (m) => process.send!(m), onMessage: (l) => process.on('message', l as never) }
}

/**
 * A handler that spins the CPU never lets 'disconnect' run, so a thread of
 * its own watches instead: once the worker process is gone (this process was
 * handed to another parent), it kills this process's group, which holds
 * whatever the handler started too.
 */
function watchForOrphaning(): void {
  const watchdog = new Thread(
    `const { workerData: parent } = require('node:worker_threads')
     setInterval(() => {
       if (process.ppid !== parent) {
         try { process.kill(-process.pid, 'SIGKILL') } catch { process.kill(process.pid, 'SIGKILL') }
       }
     }, 500)`,
    { eval: true, workerData: process.ppid },
  )
  watchdog.unref()
}

const ch = channel()
const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>()
const controller = new AbortController()
let nextId = 0

function call(method: ContextMethod, ...args: unknown[]): Promise<unknown> {
  const id = nextId++
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject })
    ch.send({ kind: 'call', id, method, args })
  })
}

function rebuild(wire: WireError): Error {
  const error = new Error(wire.message) as Error & { code?: string }
  error.name = wire.name
  if (wire.stack) error.stack = wire.stack
  if (wire.code) error.code = wire.code
  return error
}

async function bytesOf(data: Buffer | string | Readable): Promise<Buffer | string> {
  if (typeof data === 'string' || Buffer.isBuffer(data)) return data
  const chunks: Buffer[] = []
  for await (const chunk of data) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))
  return Buffer.concat(chunks)
}

function contextFor(job: ClaimedJob): JobContext {
  let steps = 0
  return {
    job,
    attempt: job.attempts,
    signal: controller.signal,
    async progress(percent, message) {
      await call('progress', percent, message)
    },
    async step(name, fn) {
      const step = steps++
      // The parent records the start, runs its own ctx.step around ours, and answers once it has.
      await call('stepStart', step, name)
      try {
        const result = await fn()
        await call('stepEnd', step, null)
        return result
      } catch (error) {
        await call('stepEnd', step, toWireError(error)).catch(() => {})
        throw error
      }
    },
    async log(message, data) {
      await call('log', message, data)
    },
    artifacts: () => call('artifacts') as Promise<Artifact[]>,
    readArtifact: async (artifact) => asBuffer(await call('readArtifact', artifact)) as Buffer,
    saveOutput: async (file) =>
      (await call('saveOutput', { ...file, data: await bytesOf(file.data) })) as Artifact,
    upstream: () => call('upstream') as never,
    // The parent snoozes the job on its real context, which always answers with the error that
    // ends the handler: it rejects here too, and the parent's executor records the snooze.
    snooze: async (ms) => {
      await call('snooze', ms)
      throw new Error('the job was snoozed')
    },
  }
}

async function run(message: Extract<ToSandbox, { kind: 'run' }>): Promise<void> {
  let handler: unknown
  try {
    const module = (await import(message.module)) as Record<string, unknown>
    handler = module[message.export]
    if (typeof handler !== 'function') {
      throw new TypeError(`the module ${message.module} has no function export '${message.export}'`)
    }
  } catch (error) {
    ch.send({ kind: 'failed', error: toWireError(error, { loading: true }) })
    return
  }
  try {
    const result = await (handler as (job: ClaimedJob, ctx: JobContext) => unknown)(
      message.job,
      contextFor(message.job),
    )
    ch.send({ kind: 'done', result })
  } catch (error) {
    ch.send({ kind: 'failed', error: toWireError(error) })
  }
}

ch.onMessage((message) => {
  if (message.kind === 'run') void run(message)
  else if (message.kind === 'reply') {
    const waiting = pending.get(message.id)
    pending.delete(message.id)
    if (message.ok) waiting?.resolve(message.value)
    else waiting?.reject(rebuild(message.error))
  } else if (message.kind === 'abort') {
    controller.abort(new JobAbortedError(message.reason as JobAbortedError['reason'], message.message))
  }
})
