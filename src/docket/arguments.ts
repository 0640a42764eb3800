/** Checks of the arguments the Docket class takes that are not plain options objects. */
import { invalidArgument } from '../core/errors.js'
import { isJobId, parse, queueName } from '../core/options.js'
import type { ClaimedJob, LeaseRef } from '../core/types.js'
import type { FailureInput, Leased } from './types.js'

export function checkId(id: unknown, what: string): string {
  if (!isJobId(id)) {
    throw invalidArgument(`invalid ${what} id ${JSON.stringify(id)}: expected a UUID`, [
      { path: 'id', message: 'expected a UUID' },
    ])
  }
  return id.toLowerCase()
}

export function checkJobId(id: unknown): string {
  if (!isJobId(id)) {
    throw invalidArgument(`invalid job id ${JSON.stringify(id)}: expected a UUID`, [
      { path: 'id', message: 'expected a UUID' },
    ])
  }
  return id.toLowerCase()
}

export function checkQueueName(name: unknown): string {
  return parse(queueName, name, 'queue name')
}

export function leaseRef(job: Leased): LeaseRef {
  const ref = job as Partial<LeaseRef & ClaimedJob>
  const token = typeof ref.token === 'string' ? ref.token : ref.lease?.token
  if (typeof token !== 'string' || token.length === 0) {
    throw invalidArgument('expected a claimed job or { id, token }', [
      { path: 'token', message: 'missing lease token' },
    ])
  }
  return { id: checkJobId(ref.id), token }
}

export function normaliseError(error: Error | FailureInput | string): {
  message: string
  name: string | null
  stack: string | null
  data?: unknown
} {
  if (typeof error === 'string') return { message: error, name: null, stack: null }
  if (error === null || typeof error !== 'object' || typeof error.message !== 'string') {
    throw invalidArgument('error must be an Error, a string, or { message }', [
      { path: 'error', message: 'expected an error' },
    ])
  }
  return {
    message: error.message.slice(0, 10_000),
    name: typeof error.name === 'string' ? error.name : null,
    stack: typeof error.stack === 'string' ? error.stack.slice(0, 20_000) : null,
    // Only a plain failure's data: an Error's own fields may be anything, not JSON.
    ...(!(error instanceof Error) && error.data !== undefined ? { data: error.data } : {}),
  }
}
