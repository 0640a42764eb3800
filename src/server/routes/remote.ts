/**
 * Remote workers over HTTP, in any language: register, claim (long-poll),
 * heartbeat, report progress and steps, complete, fail (with a retry-after), snooze, release. The same
 * leases and fencing as library workers: every report names the lease token,
 * and a lost lease is a 409 LEASE_LOST saying why. The registry is the truth:
 * a worker id is usable only by the key that registered it, only while it is
 * up, and claims only within the queues and capabilities it registered.
 * See docs/remote-workers.md.
 */

import type { Socket } from 'node:net'
import { hostname } from 'node:os'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { durationMs, leaseMs, queueName, workerId } from '../../core/bounds.js'
import {
  assertLeaseHeld,
  conflict,
  DocketError,
  type FieldIssue,
  invalidArgument,
} from '../../core/errors.js'
import { REPORTED_EVENT_KINDS } from '../../core/events.js'
import { label, progressInput, leaseToken as token } from '../../core/options.js'
import { retryAfterSeconds } from '../../core/rate-limits.js'
import type { Docket } from '../../docket.js'
import type { WorkerInfo } from '../../storage/store.js'
import { Wake } from '../../worker/wake.js'
import { assertLeaseBinding } from '../lease-binding.js'
import { claimedJobJson, claimedJobView, jobJson, jobView, workerJson, workerView } from '../views.js'
import { ADMINS, WORKERS } from './access.js'
import { errorResponses, jobParams, ok, workerParams } from './common.js'
import { claimCompletions, completeLeased, completeResult } from './lease-batches.js'

const registerBody = z.strictObject({
  id: workerId
    .optional()
    .describe('the worker’s name in the registry and in its leases; made up when left out'),
  host: label.optional(),
  kind: label.optional(),
  capabilities: z.array(label).max(50).optional(),
  queues: z.array(queueName).min(1).max(100),
  concurrency: z.number().int().min(1).max(10_000).optional(),
})
const claimBody = z.strictObject({
  queues: z.array(queueName).min(1).max(100),
  capabilities: z.array(label).max(50).optional(),
  limit: z.number().int().min(1).max(100).optional(),
  leaseMs: leaseMs.optional(),
  waitMs: z
    .number()
    .int()
    .min(0)
    .max(30_000)
    .optional()
    .describe('long-poll: wait up to this long for a job'),
  complete: claimCompletions
    .optional()
    .describe(
      'jobs this worker finished, completed before the claim (as POST /jobs/complete does): one round trip per batch',
    ),
})

/** One answer for a worker id that is unknown, someone else's, stopped or lost: register (again). */
const unregistered = (id: string) =>
  new DocketError(
    'NOT_FOUND',
    `worker '${id}' is not registered to this key (unknown, stopped or marked lost): register it again`,
    { resource: 'worker', id },
  )

/** The worker `id` as registered by the caller (an admin key may use any); `up` also requires it to be up. */
async function ownWorker(
  docket: Docket,
  request: FastifyRequest,
  id: string,
  up: boolean,
): Promise<WorkerInfo> {
  const worker = await docket.workers.get(id)
  const { principal } = request
  if (!worker || (principal.role !== 'admin' && worker.registeredBy !== principal.name))
    throw unregistered(id)
  if (up && worker.status !== 'up') throw unregistered(id)
  return worker
}

/** A claim stays within the worker's registration, on queues that exist. */
async function checkClaim(
  docket: Docket,
  worker: WorkerInfo,
  queues: string[],
  capabilities: string[],
): Promise<void> {
  for (const name of queues) await docket.getQueue(name)
  const issues: FieldIssue[] = [
    ...queues.flatMap((q, i) =>
      worker.queues.includes(q)
        ? []
        : [{ path: `body.queues.${i}`, message: `'${q}' is not a queue this worker registered` }],
    ),
    ...capabilities.flatMap((c, i) =>
      worker.capabilities.includes(c)
        ? []
        : [{ path: `body.capabilities.${i}`, message: `'${c}' is not a capability this worker registered` }],
    ),
  ]
  if (issues.length > 0)
    throw invalidArgument(
      `a claim may use only the queues and capabilities worker '${worker.id}' registered (register again to change them): ${issues.map((i) => i.message).join('; ')}`,
      issues,
    )
}

/** One turn of the event loop: whatever I/O has arrived (a closed connection) is handled first. */
const turnOfTheEventLoop = () => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)))

/**
 * Whether a long-poll's client is still there: gone once its connection
 * closes, or it ends its side of it (FIN), before the answer is written
 * (the end of a connection after its answer is no news). `onGone` runs its
 * callback when that happens (at once if it has).
 */
function watchClient(
  request: FastifyRequest,
  reply: FastifyReply,
): { gone(): boolean; onGone(fn: () => void): void } {
  const socket = request.raw.socket as (Socket & { readableEnded?: boolean }) | undefined
  let finished = false
  const answered = () => finished || reply.raw.writableFinished
  let gone = false
  const callbacks: (() => void)[] = []
  const leave = () => {
    if (gone || answered()) return
    gone = true
    for (const fn of callbacks.splice(0)) fn()
  }
  // On the socket, which a keep-alive connection shares with later requests: taken off once answered.
  socket?.on('end', leave).on('close', leave)
  const detach = () => socket?.off('end', leave).off('close', leave)
  reply.raw
    .once('finish', () => {
      finished = true
      detach()
    })
    .once('close', () => {
      leave()
      detach()
    })
  return {
    gone: () => gone || (!answered() && (socket?.destroyed === true || socket?.readableEnded === true)),
    onGone(fn) {
      if (gone) fn()
      else callbacks.push(fn)
    },
  }
}

export const remoteWorkerRoutes =
  ({ docket }: { docket: Docket }): FastifyPluginAsync =>
  async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>()
    const tags = ['workers']
    const config = { roles: [...WORKERS] }

    app.get(
      '/workers',
      {
        config: { roles: [...ADMINS] },
        schema: {
          tags,
          summary: 'List workers with kind, capabilities, load and heartbeat age',
          response: { 200: z.object({ workers: z.array(workerView) }), ...errorResponses(403) },
        },
      },
      async () => {
        const now = docket.now()
        return { workers: (await docket.listWorkers()).map((w) => workerJson(w, now)) }
      },
    )

    app.post(
      '/workers',
      {
        config,
        schema: {
          tags,
          summary:
            'Register a remote worker (again, to change its queues or capabilities, or after it stopped or was marked lost)',
          body: registerBody,
          response: { 201: z.object({ id: z.string() }), ...errorResponses(400, 403, 404, 409) },
        },
      },
      async (request, reply) => {
        const b = request.body
        // As a claim would: a queue that does not exist is a 404 naming it, before anything is registered.
        for (const name of b.queues) await docket.getQueue(name)
        const id = b.id ?? `remote:${request.ip}:${Math.random().toString(36).slice(2, 10)}`
        const existing = b.id === undefined ? null : await docket.workers.get(id)
        if (
          existing &&
          request.principal.role !== 'admin' &&
          existing.registeredBy !== request.principal.name
        )
          throw conflict(
            `worker id '${id}' is registered to another key: choose another id, or leave it out`,
            {
              id,
            },
          )
        await docket.workers.register({
          id,
          registeredBy: request.principal.name,
          host: b.host ?? request.ip ?? hostname(),
          pid: 0,
          kind: b.kind ?? 'cpu',
          capabilities: b.capabilities ?? [],
          queues: b.queues,
          concurrency: b.concurrency ?? 1,
        })
        return reply.status(201).send({ id })
      },
    )

    app.post(
      '/workers/:id/heartbeat',
      {
        config,
        schema: {
          tags,
          summary: 'Record a worker heartbeat and its load',
          params: workerParams,
          body: z.strictObject({ load: z.number().int().min(0).max(100_000) }),
          response: { 200: ok, ...errorResponses(400, 403, 404) },
        },
      },
      async (request) => {
        await ownWorker(docket, request, request.params.id, true)
        if (!(await docket.workers.beat(request.params.id, request.body.load)))
          throw unregistered(request.params.id)
        return { ok: true as const }
      },
    )

    app.delete(
      '/workers/:id',
      {
        config,
        schema: {
          tags,
          summary:
            'Deregister a worker: the jobs it still holds go back to their queues, attempts not counted',
          params: workerParams,
          response: {
            200: z.object({ ok: z.literal(true), released: z.number().int() }),
            ...errorResponses(400, 403, 404),
          },
        },
      },
      async (request) => {
        await ownWorker(docket, request, request.params.id, false)
        return { ok: true as const, released: await docket.workers.deregister(request.params.id) }
      },
    )

    app.post(
      '/workers/:id/claim',
      {
        config,
        schema: {
          tags,
          summary:
            'Claim ready jobs under a lease, within the queues and capabilities the worker registered; with waitMs, waits for one to arrive',
          params: workerParams,
          body: claimBody,
          response: {
            200: z.object({
              jobs: z.array(claimedJobView),
              retryAfterMs: z
                .number()
                .int()
                .optional()
                .describe(
                  'only when no job came and a rate limit of these queues is full: ms until its next slot opens (also as a Retry-After header, in whole seconds)',
                ),
              completed: z
                .array(completeResult)
                .optional()
                .describe('only with `complete`: one outcome per completion, in its order'),
            }),
            ...errorResponses(400, 403, 404),
          },
        },
      },
      async (request, reply) => {
        const b = request.body
        // The completions stand on their own (each is lease-checked as by POST /jobs/complete), so
        // they are written while the claim is checked; and before it claims, so their slots are free.
        const [checked, completing] = await Promise.allSettled([
          ownWorker(docket, request, request.params.id, true).then(async (worker) => {
            await checkClaim(docket, worker, b.queues, b.capabilities ?? worker.capabilities)
            return worker
          }),
          b.complete ? completeLeased(docket, request.principal, b.complete, 'body.complete') : undefined,
        ])
        if (completing.status === 'rejected') throw completing.reason
        if (checked.status === 'rejected') throw checked.reason
        const worker = checked.value
        const capabilities = b.capabilities ?? worker.capabilities
        const completed = completing.value ? { completed: completing.value } : {}
        const claim = async () => {
          const jobs = await docket.workers.claim({
            workerId: worker.id,
            queues: b.queues,
            capabilities,
            limit: b.limit ?? 1,
            leaseMs: b.leaseMs,
          })
          // Deregistered (or marked lost) while claiming: its jobs go straight back.
          if (jobs.length > 0 && (await docket.workers.get(worker.id))?.status !== 'up') {
            await docket.workers.release(jobs)
            throw unregistered(worker.id)
          }
          return jobs
        }
        // Watched from before the first claim, so a client that leaves during it is seen too.
        const client = watchClient(request, reply)
        let jobs = await claim()
        const deadline = Date.now() + (b.waitMs ?? 0)
        if (jobs.length === 0 && b.waitMs && !client.gone()) {
          const wake = new Wake()
          const unsubscribe = await docket.workers.onReady((queue) => {
            if (queue === '*' || b.queues.includes(queue)) wake.wake()
          })
          // A client that leaves ends the wait at once, before anything more is claimed for it.
          client.onGone(() => wake.wake())
          try {
            // Marked before each claim: a wake-up during the claim makes the next sleep return at once.
            let mark = wake.mark()
            while (jobs.length === 0 && Date.now() < deadline && !client.gone()) {
              await wake.sleep(Math.min(500, Math.max(0, deadline - Date.now())), mark)
              mark = wake.mark()
              if (!client.gone()) jobs = await claim()
            }
          } finally {
            await unsubscribe()
          }
        }
        if (jobs.length > 0) {
          // Its connection's end may still be queued behind the claim (on SQLite the claim never
          // yields), so the event loop turns before the client is taken to be there.
          await turnOfTheEventLoop()
          if (client.gone()) {
            // The client went away while we held its jobs: hand them straight back.
            await docket.workers.release(jobs)
            return { jobs: [] }
          }
          // And if the answer cannot be written (the connection breaks first), they go back too.
          const held = jobs
          client.onGone(() => void docket.workers.release(held).catch(() => {}))
        }
        if (jobs.length === 0) {
          // Held back by a full rate limit, not by an empty queue: say when to come back.
          const retryAfterMs = await docket.workers.rateLimitWaitMs(b.queues)
          if (retryAfterMs !== null) {
            reply.header('retry-after', String(retryAfterSeconds(retryAfterMs)))
            return { jobs: [], retryAfterMs, ...completed }
          }
        }
        return { jobs: jobs.map(claimedJobJson), ...completed }
      },
    )

    // Every lease report is checked first against the key that claimed (lease-binding.ts).
    const leased = {
      config,
      preHandler: async (request: FastifyRequest) => {
        const { id } = request.params as { id: string }
        const { token: t } = request.body as { token: string }
        await assertLeaseBinding(docket, request.principal, { id, token: t })
      },
    }
    app.post(
      '/jobs/:id/heartbeat',
      {
        ...leased,
        schema: {
          tags,
          summary: 'Extend a lease',
          params: jobParams,
          body: z.strictObject({ token, leaseMs: leaseMs.optional() }),
          response: { 200: ok, ...errorResponses(400, 403, 409) },
        },
      },
      async (request) => {
        const [outcome] = await docket.workers.heartbeat(
          { id: request.params.id, token: request.body.token },
          request.body.leaseMs,
        )
        assertLeaseHeld(outcome!)
        return { ok: true as const }
      },
    )

    app.post(
      '/jobs/:id/release',
      {
        ...leased,
        schema: {
          tags,
          summary:
            'Hand a leased job back: it returns to its place at the head of its queue, the attempt not counted',
          params: jobParams,
          body: z.strictObject({ token }),
          response: { 200: ok, ...errorResponses(400, 403, 409) },
        },
      },
      async (request) => {
        const [outcome] = await docket.workers.release({ id: request.params.id, token: request.body.token })
        assertLeaseHeld(outcome!)
        return { ok: true as const }
      },
    )

    app.post(
      '/jobs/:id/progress',
      {
        ...leased,
        schema: {
          tags,
          summary: 'Report progress on a leased job',
          params: jobParams,
          body: progressInput.extend({ token }),
          response: { 200: ok, ...errorResponses(400, 403, 409) },
        },
      },
      async (request) => {
        const { token: t, ...progress } = request.body
        await docket.workers.progress({ id: request.params.id, token: t }, progress)
        return { ok: true as const }
      },
    )

    app.post(
      '/jobs/:id/events',
      {
        ...leased,
        schema: {
          tags,
          summary: 'Record a step boundary or a log line on a leased job',
          params: jobParams,
          body: z.strictObject({
            token,
            kind: z.enum(REPORTED_EVENT_KINDS),
            step: z.string().min(1).max(200).optional(),
            message: z.string().max(2000).optional(),
            durationMs: durationMs.optional(),
            data: z.unknown().optional(),
          }),
          response: { 200: ok, ...errorResponses(400, 403, 409) },
        },
      },
      async (request) => {
        const b = request.body
        const ref = { id: request.params.id, token: b.token }
        if (b.kind === 'log') await docket.workers.log(ref, b.message ?? '', b.data)
        else {
          await docket.workers.step(
            ref,
            b.step ?? '',
            b.kind.slice(5) as 'started' | 'completed' | 'failed',
            {
              durationMs: b.durationMs,
              message: b.message,
            },
          )
        }
        return { ok: true as const }
      },
    )

    app.post(
      '/jobs/:id/complete',
      {
        ...leased,
        schema: {
          tags,
          summary: 'Complete a leased job with its result',
          params: jobParams,
          body: z.strictObject({ token, result: z.unknown().optional() }),
          response: { 200: ok, ...errorResponses(400, 403, 409) },
        },
      },
      async (request) => {
        await docket.workers.complete(
          { id: request.params.id, token: request.body.token },
          request.body.result,
        )
        return { ok: true as const }
      },
    )

    app.post(
      '/jobs/:id/fail',
      {
        ...leased,
        schema: {
          tags,
          summary:
            'Fail the current attempt of a leased job (retried after its backoff unless retryable is false)',
          params: jobParams,
          body: z.strictObject({
            token,
            error: z.strictObject({
              message: z.string().max(10_000),
              name: z.string().max(200).optional(),
              stack: z.string().max(20_000).optional(),
              data: z.unknown().optional().describe('any JSON, kept with this attempt in attemptHistory'),
            }),
            retryable: z.boolean().optional(),
            retryInMs: durationMs
              .optional()
              .describe(
                'retry after this long instead of the job’s backoff (an upstream’s Retry-After); the attempt counts',
              ),
          }),
          response: { 200: jobView, ...errorResponses(400, 403, 409) },
        },
      },
      async (request) => {
        const b = request.body
        const options =
          b.retryInMs === undefined
            ? { retryable: b.retryable }
            : { retryable: b.retryable, retryInMs: b.retryInMs }
        return jobJson(await docket.workers.fail({ id: request.params.id, token: b.token }, b.error, options))
      },
    )

    app.post(
      '/jobs/:id/snooze',
      {
        ...leased,
        schema: {
          tags,
          summary:
            'Snooze a leased job: the lease ends, the attempt is not counted, and the job runs again after delayMs',
          params: jobParams,
          body: z.strictObject({
            token,
            delayMs: durationMs.describe('0: ready again at once'),
          }),
          response: { 200: jobView, ...errorResponses(400, 403, 409) },
        },
      },
      async (request) => {
        const b = request.body
        return jobJson(await docket.workers.snooze({ id: request.params.id, token: b.token }, b.delayMs))
      },
    )
  }
