import { z } from 'zod'
import { jobId, queueName, uuid, workerId } from '../../core/bounds.js'
import { errorView } from '../views.js'

/** The error responses a route may give, for its OpenAPI entry. */
export function errorResponses(...statuses: (400 | 401 | 403 | 404 | 409 | 413 | 415 | 429)[]) {
  return Object.fromEntries([401, 429, ...statuses].map((s) => [s, errorView])) as Record<
    number,
    typeof errorView
  >
}

// Path parameters, from the same schemas the library checks its arguments with
// (core/bounds.ts), so the OpenAPI document shows the rule the server applies.
export const jobParams = z.strictObject({ id: jobId })
export const batchParams = z.strictObject({ id: uuid('a batch id') })
export const keyParams = z.strictObject({ id: uuid('an API key id') })
export const workerParams = z.strictObject({ id: workerId })
export const queueParams = z.strictObject({ name: queueName })
/** An artifact's id (the library's getArtifact names it the same way). */
export const idParams = z.strictObject({ id: uuid('an artifact id') })
export const ok = z.object({ ok: z.literal(true) })

/** `?token=`: a viewer token (POST /jobs/{id}/viewer-token), instead of a key, on the routes a viewer may read. */
export const viewerTokenQuery = z
  .string()
  .min(1)
  .max(200)
  .optional()
  .describe('a viewer token (POST /jobs/{id}/viewer-token): read this one job, or its feed, without a key')

/**
 * A worker key reads a job's files and upstream results only while it holds
 * the job's lease: the lease token comes as the `x-lease-token` header or this
 * `token` query parameter. Without a live lease the job (or file) is answered
 * as missing (access.ts, holdsLease).
 */
export const leaseQuery = z.strictObject({
  token: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe('worker keys: the lease token (or send x-lease-token)'),
})
