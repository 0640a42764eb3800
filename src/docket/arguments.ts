/** Checks of the arguments the Docket class takes that are not plain options objects. */
import { checkBound, jobId, queueName, uuid } from '../core/bounds.js'
import { invalidArgument } from '../core/errors.js'
import type { ClaimedJob, LeaseRef } from '../core/types.js'
import type { FailureInput, Leased } from './types.js'

/** An id Docket made (`what`: 'batch', 'schedule', 'API key'…), in lower case; INVALID_ARGUMENT naming `id` otherwise. */
export function checkId(id: unknown, what: string): string {
  return checkBound(uuid(`${/^[aeiou]/i.test(what) ? 'an' : 'a'} ${what} id`), id, 'id').toLowerCase()
}

export function checkJobId(id: unknown): string {
  return checkBound(jobId, id, 'id')
}

export function checkQueueName(name: unknown, field = 'name'): string {
  return checkBound(queueName, name, field)
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
