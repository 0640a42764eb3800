import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { isDocketError } from '../../core/errors.js'
import { queueCreateInput, queueUpdateInput } from '../../core/options.js'
import type { Queue } from '../../core/types.js'
import type { Docket } from '../../docket.js'
import type { Principal } from '../auth.js'
import { dashboardReadsOf } from '../internals.js'
import { queueJson, queueView } from '../views.js'
import { ADMINS, READERS } from './access.js'
import { errorResponses, ok, queueParams } from './common.js'

export const queueRoutes =
  ({ docket }: { docket: Docket }): FastifyPluginAsync =>
  async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>()
    const tags = ['queues']

    app.get(
      '/queues',
      {
        config: { roles: [...READERS] },
        schema: {
          tags,
          summary: 'List queues with counts by state and their health (latency, rates, top errors)',
          response: { 200: z.object({ queues: z.array(queueView) }), ...errorResponses(403) },
        },
      },
      async (request) => {
        const own = ownJobsOnly(request.principal)
        const [queues, counts] = await Promise.all([docket.listQueues(), docket.countJobs(undefined, own)])
        const health = await Promise.all(queues.map((q) => healthOf(docket, q.name, own)))
        return { queues: queues.map((q, i) => queueJson(q, counts[q.name], health[i])) }
      },
    )

    app.post(
      '/queues',
      {
        config: { roles: [...ADMINS] },
        schema: {
          tags,
          summary: 'Create a queue',
          body: queueCreateInput,
          response: { 201: queueView, ...errorResponses(400, 403, 409) },
        },
      },
      async (request, reply) => reply.status(201).send(queueJson(await docket.createQueue(request.body))),
    )

    app.get(
      '/queues/:name',
      {
        config: { roles: ['admin', 'user', 'worker'] },
        schema: {
          tags,
          summary: 'Get a queue with counts by state, its busiest groups and its health',
          description:
            'A worker key gets the queue’s settings and `rateLimitUse` only (no counts, groups or health: those are about the jobs, not the work), so a remote worker can pace itself. A user key gets counts, groups and health of its own jobs, and no `rateLimitUse`.',
          params: queueParams,
          response: { 200: queueView, ...errorResponses(400, 403, 404) },
        },
      },
      async (request) => {
        const queue = await docket.getQueue(request.params.name)
        if (request.principal.role === 'worker') return workerQueueView(docket, queue)
        const own = ownJobsOnly(request.principal)
        const [counts, groups, health, use] = await Promise.all([
          docket.countJobs(queue.name, own),
          dashboardReadsOf(docket).groupCounts(queue.name, own),
          docket.queueHealth(queue.name, own),
          // Everyone's starts in the window: not shown to a user, whose counts cover their own jobs only.
          request.principal.role === 'user' ? undefined : docket.rateLimitUse(queue.name),
        ])
        const rateLimitUse = use && rateLimitUseJson(use)
        return {
          ...queueJson(queue, counts[queue.name], health),
          groups,
          ...(use !== undefined ? { rateLimitUse } : {}),
        }
      },
    )

    app.patch(
      '/queues/:name',
      {
        config: { roles: [...ADMINS] },
        schema: {
          tags,
          summary: 'Update a queue (mode, concurrency limit, ordering, retry defaults, retention)',
          params: queueParams,
          body: queueUpdateInput,
          response: { 200: queueView, ...errorResponses(400, 403, 404) },
        },
      },
      async (request) => queueJson(await docket.updateQueue(request.params.name, request.body)),
    )

    for (const action of ['pause', 'resume'] as const) {
      app.post(
        `/queues/:name/${action}`,
        {
          config: { roles: [...ADMINS] },
          schema: {
            tags,
            summary: `${action === 'pause' ? 'Pause' : 'Resume'} a queue`,
            params: queueParams,
            response: { 200: queueView, ...errorResponses(400, 403, 404) },
          },
        },
        async (request) =>
          queueJson(
            action === 'pause'
              ? await docket.pauseQueue(request.params.name)
              : await docket.resumeQueue(request.params.name),
          ),
      )
    }

    app.post(
      '/queues/:name/promote',
      {
        config: { roles: [...ADMINS] },
        schema: {
          tags,
          summary: 'Promote every held job of a manual-mode queue',
          params: queueParams,
          response: { 200: z.object({ promoted: z.number().int() }), ...errorResponses(400, 403, 404) },
        },
      },
      async (request) => ({ promoted: await docket.promote({ queue: request.params.name }) }),
    )

    app.delete(
      '/queues/:name',
      {
        config: { roles: [...ADMINS] },
        schema: {
          tags,
          summary: 'Delete a queue; refused while it has live jobs unless force=true',
          params: queueParams,
          querystring: z.strictObject({ force: z.enum(['true', 'false']).optional() }),
          response: { 200: ok, ...errorResponses(400, 403, 404, 409) },
        },
      },
      async (request) => {
        await docket.deleteQueue(request.params.name, { force: request.query.force === 'true' })
        return { ok: true as const }
      },
    )
  }

type RateLimitUse = NonNullable<Awaited<ReturnType<Docket['rateLimitUse']>>>
const rateLimitUseJson = (use: RateLimitUse | null) =>
  use && { ...use, nextSlotAt: use.nextSlotAt?.toISOString() ?? null }

/** What a worker key reads of a queue: its settings and its rate limit's use, nothing about its jobs. */
async function workerQueueView(docket: Docket, queue: Queue) {
  return { ...queueJson(queue), rateLimitUse: rateLimitUseJson(await docket.rateLimitUse(queue.name)) }
}

/** A queue deleted between the list and this read has no health to show. */
async function healthOf(docket: Docket, name: string, own: { owner?: string }) {
  try {
    return await docket.queueHealth(name, own)
  } catch (error) {
    if (isDocketError(error, 'NOT_FOUND')) return undefined
    throw error
  }
}

/** A user's counts cover their own jobs only, as everything else they read does. */
function ownJobsOnly(principal: Principal): { owner?: string } {
  return principal.role === 'user' ? { owner: principal.name } : {}
}
