/** An operator's care of the worker registry: forgetting a stopped or lost worker. */
import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import type { Docket } from '../../docket.js'
import { ADMINS } from './access.js'
import { errorResponses, ok, workerParams } from './common.js'

export const workerAdminRoutes =
  ({ docket }: { docket: Docket }): FastifyPluginAsync =>
  async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>()
    app.post(
      '/workers/:id/remove',
      {
        config: { roles: [...ADMINS] },
        schema: {
          tags: ['workers'],
          summary:
            'Remove a stopped or lost worker from the registry (admin); a worker that is up answers 409 INVALID_STATE',
          params: workerParams,
          response: { 200: ok, ...errorResponses(400, 403, 404, 409) },
        },
      },
      async (request) => {
        await docket.workers.remove(request.params.id)
        return { ok: true as const }
      },
    )
  }
