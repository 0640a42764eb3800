import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { batchOptions, jobInput } from '../../core/options.js'
import type { Docket } from '../../docket.js'
import { batchJson, batchView, jobJson, jobView } from '../views.js'
import { ownerFor, READERS, scopeJobIds, visibleBatch } from './access.js'
import { batchParams, errorResponses } from './common.js'

export const batchRoutes =
  ({ docket }: { docket: Docket }): FastifyPluginAsync =>
  async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>()
    const tags = ['batches']
    const config = { roles: [...READERS] }

    app.post(
      '/batches',
      {
        config,
        schema: {
          tags,
          summary:
            'Create a batch of jobs in one transaction; with `then`, also one job that runs once every job of the batch is final',
          body: batchOptions.extend({ jobs: z.array(jobInput).min(1).max(1000) }),
          response: {
            201: z.object({
              batch: batchView,
              jobs: z.array(jobView),
              thenJob: jobView.optional().describe('the `then` job, when asked for'),
            }),
            ...errorResponses(400, 403, 404, 409, 413),
          },
        },
      },
      async (request, reply) => {
        const owner = ownerFor(request.principal, request.body.owner) ?? undefined
        const jobs = scopeJobIds(
          request.principal,
          request.body.jobs.map((j) => ({ ...j, owner: ownerFor(request.principal, j.owner ?? owner) })),
        )
        const { name, then } = request.body
        const result = await docket.addBatch(jobs, { name, owner, ...(then ? { then } : {}) })
        return reply.status(201).send({
          batch: batchJson(result.batch),
          jobs: result.jobs.map((j) => jobJson(j)),
          ...(result.thenJob ? { thenJob: jobJson(result.thenJob) } : {}),
        })
      },
    )

    app.get(
      '/batches',
      {
        config,
        schema: {
          tags,
          summary: 'List batches, newest first (a user sees only their own); pass nextBefore back as before',
          querystring: z.strictObject({
            owner: z.string().min(1).max(200).optional(),
            before: z.string().min(1).max(200).optional().describe('list the batches older than this id'),
            limit: z.coerce.number().int().min(1).max(100).optional(),
          }),
          response: {
            200: z.object({ batches: z.array(batchView), nextBefore: z.string().nullable() }),
            ...errorResponses(400, 403),
          },
        },
      },
      async (request) => {
        const q = request.query
        const admin = request.principal.role === 'admin'
        if (!admin && q.owner !== undefined && q.owner !== request.principal.name) {
          return { batches: [], nextBefore: null }
        }
        const limit = q.limit ?? 50
        const batches = await docket.listBatches({
          owner: admin ? q.owner : request.principal.name,
          before: q.before,
          limit,
        })
        const last = batches.length === limit ? batches[batches.length - 1] : undefined
        return { batches: batches.map(batchJson), nextBefore: last?.id ?? null }
      },
    )

    app.get(
      '/batches/:id',
      {
        config,
        schema: {
          tags,
          summary: 'A batch: counts by state and overall progress',
          params: batchParams,
          response: { 200: batchView, ...errorResponses(400, 403, 404) },
        },
      },
      async (request) => batchJson(await visibleBatch(docket, request.principal, request.params.id)),
    )

    for (const action of ['cancel', 'retry'] as const) {
      app.post(
        `/batches/:id/${action}`,
        {
          config,
          schema: {
            tags,
            summary:
              action === 'cancel'
                ? 'Cancel every unfinished job of a batch'
                : 'Retry every failed job of a batch',
            params: batchParams,
            response: {
              200: z.object({ batch: batchView, changed: z.number().int() }),
              ...errorResponses(400, 403, 404),
            },
          },
        },
        async (request) => {
          await visibleBatch(docket, request.principal, request.params.id)
          const changed =
            action === 'cancel'
              ? await docket.cancelBatch(request.params.id)
              : await docket.retryBatch(request.params.id)
          return { batch: batchJson(await docket.getBatch(request.params.id)), changed }
        },
      )
    }
  }
