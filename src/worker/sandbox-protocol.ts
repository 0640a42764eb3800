/**
 * The messages between a worker and a sandboxed handler (sandbox.ts, the
 * parent; sandbox-runtime.ts, the thread or process). Both ends use
 * structured clone (a thread's postMessage; a child process's IPC with
 * `serialization: 'advanced'`), so dates and bytes cross as they are.
 *
 *   parent → sandbox   run      the job, the module and its export to call
 *   sandbox → parent   call     a context method (progress, log, a step's
 *                               start or end, files), answered by `reply`
 *   sandbox → parent   done     the handler's result
 *   sandbox → parent   failed   what the handler threw
 *   parent → sandbox   abort    why the job is stopping (sent just before the
 *                               sandbox is terminated)
 */
import type { ClaimedJob } from '../core/types.js'

export type ContextMethod =
  | 'progress'
  | 'log'
  | 'stepStart'
  | 'stepEnd'
  | 'artifacts'
  | 'readArtifact'
  | 'saveOutput'
  | 'upstream'
  | 'snooze'

export type ToSandbox =
  | { kind: 'run'; module: string; export: string; job: ClaimedJob }
  | { kind: 'reply'; id: number; ok: true; value: unknown }
  | { kind: 'reply'; id: number; ok: false; error: WireError }
  | { kind: 'abort'; reason: string; message: string }

export type FromSandbox =
  | { kind: 'call'; id: number; method: ContextMethod; args: unknown[] }
  | { kind: 'done'; result: unknown }
  | { kind: 'failed'; error: WireError }

/** An error as it crosses: what is needed to throw it again on the other side. */
export interface WireError {
  name: string
  message: string
  stack?: string
  /** A DocketError's code. */
  code?: string
  /** An UnrecoverableError: the attempt is not retried. */
  unrecoverable?: boolean
  /** The handler could not be loaded (no module, no such export): a deployment's fault, not the job's. */
  loading?: boolean
}

export function toWireError(error: unknown, extra: Partial<WireError> = {}): WireError {
  const e = error instanceof Error ? error : new Error(String(error))
  const wire: WireError = { name: e.name, message: e.message }
  if (e.stack) wire.stack = e.stack
  const code = (e as { code?: unknown }).code
  if (typeof code === 'string') wire.code = code
  if (e.name === 'UnrecoverableError') wire.unrecoverable = true
  return { ...wire, ...extra }
}

/** Bytes that crossed a structured clone arrive as a Uint8Array; Docket's callers expect a Buffer. */
export function asBuffer(value: unknown): unknown {
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  }
  return value
}
