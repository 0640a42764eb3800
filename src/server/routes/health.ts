import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Docket } from '../../docket.js'
import { errorBody } from '../errors.js'
import { errorView } from '../views.js'

export const healthRoutes =
  ({ docket }: { docket: Docket }): FastifyPluginAsync =>
  async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>()
    app.get(
      '/health',
      {
        schema: {
          tags: ['health'],
          summary: 'The process is alive',
          response: { 200: z.object({ status: z.literal('ok') }) },
        },
      },
      async () => ({ status: 'ok' as const }),
    )
    app.get(
      '/ready',
      {
        schema: {
          tags: ['health'],
          summary: 'The database answers',
          response: { 200: z.object({ status: z.literal('ready'), driver: z.string() }), 503: errorView },
        },
      },
      async (_request, reply) => {
        try {
          await docket.ping()
          return { status: 'ready' as const, driver: docket.driver }
        } catch {
          return reply.status(503).send(errorBody('CLOSED', 'the database does not answer'))
        }
      },
    )
  }
