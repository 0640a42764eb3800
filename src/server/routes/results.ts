/**
 * A producer awaiting a job's end over HTTP: a long poll on the job's result.
 * The wait itself is the library's (docket.waitForJob): one shared tail of the
 * event log for every waiting request, so a thousand open polls cost one read
 * of the log per tick, not a thousand.
 */
import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { isDocketError } from '../../core/errors.js'
import { isEnded } from '../../docket/results.js'
import type { Docket } from '../../docket.js'
import { jobDetailJson, jobDetailView, jobJson, jobView } from '../views.js'
import { READERS, visibleJob } from './access.js'
import { errorResponses, jobParams } from './common.js'

/** The longest one request may wait; a producer that needs longer asks again. */
export const MAX_RESULT_WAIT_MS = 60_000

export const resultRoutes =
  ({ docket }: { docket: Docket }): FastifyPluginAsync =>
  async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>()
    app.get(
      '/jobs/:id/result',
      {
        config: { roles: [...READERS] },
        schema: {
          tags: ['jobs'],
          summary:
            'Wait for a job to end: 200 with the ended job, or 202 with the job as it is when waitMs runs out',
          description: `A long poll: answers at once when the job has already completed, failed or been cancelled (200, the job with its result or error, as GET /jobs/{id} gives it); otherwise waits up to \`waitMs\` (default 0, at most ${MAX_RESULT_WAIT_MS}) and answers 202 with the job's current state (no history) if it is still live. Ask again to wait longer. A job that is deleted meanwhile is 404.`,
          params: jobParams,
          querystring: z.strictObject({
            waitMs: z.coerce
              .number()
              .int()
              .min(0)
              .max(MAX_RESULT_WAIT_MS)
              .optional()
              .describe(`how long to wait for the job to end, in ms (0 to ${MAX_RESULT_WAIT_MS}; default 0)`),
          }),
          response: { 200: jobDetailView, 202: jobView, ...errorResponses(400, 403, 404) },
        },
      },
      async (request, reply) => {
        // Owner-checked first: someone else's job is a missing one, before any wait.
        const job = await visibleJob(docket, request.principal, request.params.id)
        if (isEnded(job)) return jobDetailJson(job)
        const controller = new AbortController()
        // The client left: stop waiting for it.
        reply.raw.once('close', () => {
          if (!reply.raw.writableFinished) controller.abort()
        })
        try {
          const ended = await docket.waitForJob(job.id, {
            timeoutMs: request.query.waitMs ?? 0,
            signal: controller.signal,
          })
          return jobDetailJson(ended)
        } catch (error) {
          if (!isDocketError(error, 'WAIT_TIMEOUT')) throw error
          const now = await docket.findJob(job.id)
          if (!now) throw error
          return reply.status(202).send(jobJson(now))
        }
      },
    )
  }
