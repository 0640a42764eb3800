/**
 * Outcomes of many leased jobs in one request, for remote workers that finish
 * jobs faster than one round trip each: `POST /jobs/complete` and
 * `POST /jobs/fail` take up to 500 `{ id, token, … }` items, and a claim may
 * carry completions (`complete: [...]`), so that a busy worker pays one round
 * trip per batch. See docs/remote-workers.md.
 *
 * A request is checked whole before anything is applied: a malformed item (no
 * token, a result over the payload limit, an id given twice) or more than 500
 * refuse the request with a 400 naming each bad item's index, and change
 * nothing. A request that passes is answered per item, in the order given:
 * each item is done or is LEASE_LOST with its reason, exactly as the single
 * routes (`/jobs/{id}/complete`, `/jobs/{id}/fail`) would answer it, because
 * it goes through the same calls of the worker protocol.
 */
import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { durationMs, jobId } from '../../core/bounds.js'
import { type FieldIssue, invalidArgument, isDocketError, leaseLost } from '../../core/errors.js'
import { LEASE_LOST_REASONS, type LeaseOutcome } from '../../core/leases.js'
import { leaseToken as token } from '../../core/options.js'
import type { Docket } from '../../docket.js'
import type { Principal } from '../auth.js'
import { leaseBindings } from '../lease-binding.js'
import { jobJson, jobView } from '../views.js'
import { WORKERS } from './access.js'
import { errorResponses } from './common.js'

/** At most this many items in one bulk request (and in a claim's `complete`). */
export const BULK_LEASE_MAX = 500

/** The error a failed attempt records: the body of `/jobs/{id}/fail` has the same. */
export const failureError = z.strictObject({
  message: z.string().max(10_000),
  name: z.string().max(200).optional(),
  stack: z.string().max(20_000).optional(),
  data: z.unknown().optional().describe('any JSON, kept with this attempt in attemptHistory'),
})

/** Refuses an id given twice in one request, naming the later item's index. */
function distinctIds(items: { id: string }[], ctx: z.RefinementCtx): void {
  const seen = new Map<string, number>()
  items.forEach((item, i) => {
    const id = item.id.toLowerCase()
    const first = seen.get(id)
    if (first === undefined) seen.set(id, i)
    else
      ctx.addIssue({
        code: 'custom',
        path: [i, 'id'],
        message: `job '${item.id}' is already item ${first}: each job may appear once per request`,
      })
  })
}

const completeItem = z.strictObject({ id: jobId, token, result: z.unknown().optional() })
const completeArray = (min: number) =>
  z
    .array(completeItem)
    .min(min)
    .max(BULK_LEASE_MAX)
    .superRefine(distinctIds)
    .describe(`up to ${BULK_LEASE_MAX} leased jobs to complete, each job once`)
/** A claim's `complete`: completions sent with the claim, applied before it. */
export const claimCompletions = completeArray(0)
export type CompleteItem = z.infer<typeof completeItem>

const failItem = z
  .strictObject({
    id: jobId,
    token,
    error: failureError,
    retryable: z.boolean().optional(),
    retryInMs: durationMs
      .optional()
      .describe('retry after this long instead of the job’s backoff; the attempt counts'),
  })
  .refine((item) => !(item.retryable === false && item.retryInMs !== undefined), {
    path: ['retryInMs'],
    message: 'retryInMs schedules a retry: it cannot go with retryable: false',
  })
const failItems = z
  .array(failItem)
  .min(1)
  .max(BULK_LEASE_MAX)
  .superRefine(distinctIds)
  .describe(`up to ${BULK_LEASE_MAX} leased jobs whose current attempt failed, each job once`)

const leaseLostResult = z.object({
  id: z.string(),
  ok: z.literal(false),
  code: z.literal('LEASE_LOST'),
  reason: z.enum(LEASE_LOST_REASONS),
  message: z.string(),
})
export const completeResult = z
  .union([z.object({ id: z.string(), ok: z.literal(true) }), leaseLostResult])
  .describe('ok: completed; else LEASE_LOST with its reason, and nothing changed for this job')
const failResult = z
  .union([z.object({ id: z.string(), ok: z.literal(true), job: jobView }), leaseLostResult])
  .describe('ok: the job as it is after the failure (scheduled for a retry, or failed); else LEASE_LOST')

export const completeBody = z.strictObject({ items: completeArray(1) })
export const completeResponse = z.object({ results: z.array(completeResult) })
export const failBody = z.strictObject({ items: failItems })
export const failResponse = z.object({ results: z.array(failResult) })

type LeaseResult = z.infer<typeof completeResult>

/** A lease outcome as a bulk answer's item, with the message the single route's 409 would carry. */
function resultOf(outcome: LeaseOutcome): LeaseResult {
  if (outcome.ok) return { id: outcome.id, ok: true }
  const { message } = leaseLost(outcome.id, outcome.reason)
  return { id: outcome.id, ok: false, code: 'LEASE_LOST', reason: outcome.reason, message }
}

/**
 * The checks the single routes make of each value before anything is
 * written, made of every item first, so that one bad item refuses the whole
 * request (naming each bad index) rather than leaving it half applied.
 */
function checkJsonValues(docket: Docket, values: { value: unknown; path: string }[], what: string): void {
  const issues: FieldIssue[] = []
  for (const { value, path } of values) {
    if (value === undefined) continue
    try {
      docket.workers.assertResult(value, path)
    } catch (error) {
      if (!isDocketError(error, 'INVALID_ARGUMENT')) throw error
      issues.push(...(error.details.issues ?? [{ path, message: error.message }]))
    }
  }
  if (issues.length > 0)
    throw invalidArgument(
      `invalid ${what}, nothing was applied: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    )
}

/**
 * Completes leased jobs (in one transaction, through the worker protocol's
 * completeMany, as `/jobs/{id}/complete` does) and answers per item.
 * `path` is where the items were in the request, for the 400 naming a bad one.
 */
export async function completeLeased(
  docket: Docket,
  principal: Principal,
  items: CompleteItem[],
  path: string,
): Promise<LeaseResult[]> {
  if (items.length === 0) return []
  checkJsonValues(
    docket,
    items.map((item, i) => ({ value: item.result, path: `${path}.${i}.result` })),
    'completions',
  )
  // Another key's leases are answered as wrong tokens are, and not written (server/lease-binding.ts).
  const refused = await leaseBindings(docket, principal, items)
  const allowed = items.filter((_, i) => refused[i] === null)
  const outcomes = await docket.workers.completeMany(
    allowed.map((item) => ({ job: { id: item.id, token: item.token }, result: item.result })),
  )
  let next = 0
  return items.map((_, i) => resultOf(refused[i] ?? outcomes[next++]!))
}

/** Fails each leased job's current attempt (through the worker protocol's fail, as `/jobs/{id}/fail` does), in order. */
export async function failLeased(
  docket: Docket,
  principal: Principal,
  items: z.infer<typeof failItems>,
): Promise<z.infer<typeof failResult>[]> {
  checkJsonValues(
    docket,
    items.map((item, i) => ({ value: item.error.data, path: `body.items.${i}.error.data` })),
    'failures',
  )
  const refused = await leaseBindings(docket, principal, items)
  const results: z.infer<typeof failResult>[] = []
  for (const [i, item] of items.entries()) {
    const gone = refused[i]
    if (gone && !gone.ok) {
      const { message } = leaseLost(gone.id, gone.reason)
      results.push({ id: item.id, ok: false, code: 'LEASE_LOST', reason: gone.reason, message })
      continue
    }
    const options =
      item.retryInMs === undefined
        ? { retryable: item.retryable }
        : { retryable: item.retryable, retryInMs: item.retryInMs }
    try {
      const job = await docket.workers.fail({ id: item.id, token: item.token }, item.error, options)
      results.push({ id: item.id, ok: true, job: jobJson(job) })
    } catch (error) {
      if (!isDocketError(error, 'LEASE_LOST')) throw error
      results.push({
        id: item.id,
        ok: false,
        code: 'LEASE_LOST',
        reason: error.details.reason as (typeof LEASE_LOST_REASONS)[number],
        message: error.message,
      })
    }
  }
  return results
}

export const leaseBatchRoutes =
  ({ docket }: { docket: Docket }): FastifyPluginAsync =>
  async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>()
    const config = { roles: [...WORKERS] }
    const tags = ['workers']
    const description =
      'The request is checked whole first: a malformed item (no token, a result over the payload limit, an id given twice), or more than 500, is a 400 naming each bad item (`body.items.<index>.…`) and nothing is applied. Otherwise each item is answered on its own, in the order given: done, or LEASE_LOST with its reason, as the single route would answer it.'

    app.post(
      '/jobs/complete',
      {
        config,
        schema: {
          tags,
          summary: `Complete up to ${BULK_LEASE_MAX} leased jobs with their results, in one transaction; answered per item`,
          description,
          body: completeBody,
          response: { 200: completeResponse, ...errorResponses(400, 403) },
        },
      },
      async (request) => ({
        results: await completeLeased(docket, request.principal, request.body.items, 'body.items'),
      }),
    )

    app.post(
      '/jobs/fail',
      {
        config,
        schema: {
          tags,
          summary: `Fail the current attempt of up to ${BULK_LEASE_MAX} leased jobs (each retried after its backoff unless retryable is false); answered per item`,
          description: `${description} Each failure is its own transaction, applied in order.`,
          body: failBody,
          response: { 200: failResponse, ...errorResponses(400, 403) },
        },
      },
      async (request) => ({ results: await failLeased(docket, request.principal, request.body.items) }),
    )
  }
