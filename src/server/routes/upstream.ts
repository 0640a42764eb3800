/**
 * What a job's dependencies produced: GET /jobs/{id}/upstream, for the
 * handler of a job that merges or follows up on others (BullMQ's
 * getChildrenValues). A worker key reads it only while it holds the job's
 * lease (the x-lease-token header or ?token=), as with the job's files;
 * admins read any job's, users their own jobs'. See docs/remote-workers.md.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { notFound } from '../../core/errors.js'
import type { Docket } from '../../docket.js'
import { upstreamJobView } from '../views.js'
import { visibleJob } from './access.js'
import { errorResponses, jobParams } from './common.js'

const leaseQuery = z.strictObject({
  token: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe('worker keys: the lease token (or send x-lease-token)'),
})

/** Whether the request carries a live lease token of the job. */
async function holdsLease(docket: Docket, request: FastifyRequest, jobId: string): Promise<boolean> {
  const header = request.headers['x-lease-token']
  const token =
    (typeof header === 'string' ? header : undefined) ?? (request.query as { token?: string }).token
  if (!token) return false
  const [outcome] = await docket.workers.checkLeases({ id: jobId, token })
  return outcome!.ok
}

export const upstreamRoutes =
  ({ docket }: { docket: Docket }): FastifyPluginAsync =>
  async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>()
    app.get(
      '/jobs/:id/upstream',
      {
        config: { roles: ['admin', 'user', 'worker'] },
        schema: {
          tags: ['jobs', 'workers'],
          summary:
            'The jobs this job depends on, with their status and results (a worker key: only with the job’s lease token, as the x-lease-token header or ?token=)',
          params: jobParams,
          querystring: leaseQuery,
          response: {
            200: z.object({ upstream: z.array(upstreamJobView) }),
            ...errorResponses(400, 403, 404),
          },
        },
      },
      async (request) => {
        const { id } = request.params
        if (request.principal.role !== 'worker') await visibleJob(docket, request.principal, id)
        // Without the lease, the job is answered as missing: a worker key never learns of others' jobs.
        else if (!(await holdsLease(docket, request, id))) throw notFound('job', id)
        const upstream = await docket.upstream(id)
        return { upstream: JSON.parse(JSON.stringify(upstream)) as z.infer<typeof upstreamJobView>[] }
      },
    )
  }
