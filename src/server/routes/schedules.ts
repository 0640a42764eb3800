/**
 * /api/v1/schedules: create, read, update, pause, resume, run now and delete
 * schedules. A user key sees and changes only its own schedules (someone
 * else's is NOT_FOUND, as a missing one), and its schedules make jobs it owns.
 */
import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { uuid } from '../../core/bounds.js'
import { notFound } from '../../core/errors.js'
import { label } from '../../core/options.js'
import { type Schedule, scheduleCreateInput, scheduleUpdateInput } from '../../core/schedules.js'
import type { Docket } from '../../docket.js'
import type { Principal } from '../auth.js'
import {
  scheduleDetailJson,
  scheduleDetailView,
  scheduleJson,
  scheduleRunJson,
  scheduleRunView,
  scheduleView,
} from '../schedule-views.js'
import { canSee, ownerFor, READERS } from './access.js'
import { errorResponses, ok } from './common.js'

const scheduleParams = z.strictObject({ id: uuid('a schedule id') })
const count = (max: number) => z.coerce.number().int().min(0).max(max).optional()

async function visibleSchedule(docket: Docket, principal: Principal, id: string): Promise<Schedule> {
  const found = await docket.getSchedule(id, { runs: 0, next: 0 })
  if (!canSee(principal, found.owner)) throw notFound('schedule', id)
  return found
}

export const scheduleRoutes =
  ({ docket }: { docket: Docket }): FastifyPluginAsync =>
  async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>()
    const tags = ['schedules']
    const config = { roles: [...READERS] }

    app.get(
      '/schedules',
      {
        config,
        schema: {
          tags,
          summary: 'List schedules by name (a user sees only their own), each with its next and latest runs',
          querystring: z.strictObject({
            owner: label.optional(),
            name: label.optional(),
            next: count(50).describe('next run times per schedule (default 3)'),
            runs: count(50).describe('latest runs per schedule (default 5)'),
          }),
          response: {
            200: z.object({ schedules: z.array(scheduleDetailView) }),
            ...errorResponses(400, 403),
          },
        },
      },
      async (request) => {
        const { owner, name, next = 3, runs = 5 } = request.query
        const admin = request.principal.role === 'admin'
        if (!admin && owner !== undefined && owner !== request.principal.name) return { schedules: [] }
        const list = await docket.listSchedules({
          ...(admin ? (owner === undefined ? {} : { owner }) : { owner: request.principal.name }),
          ...(name === undefined ? {} : { name }),
        })
        const details = await Promise.all(list.map((s) => docket.getSchedule(s.id, { next, runs })))
        return { schedules: details.map(scheduleDetailJson) }
      },
    )

    app.post(
      '/schedules',
      {
        config,
        schema: {
          tags,
          summary: 'Create a schedule: cron (optional seconds field, timezone) or every ms',
          body: scheduleCreateInput,
          response: { 201: scheduleView, ...errorResponses(400, 403, 404, 409, 413) },
        },
      },
      async (request, reply) => {
        const owner = ownerFor(request.principal, request.body.owner)
        const created = await docket.createSchedule({ ...request.body, owner })
        return reply.status(201).send(scheduleJson(created))
      },
    )

    app.get(
      '/schedules/:id',
      {
        config,
        schema: {
          tags,
          summary: 'A schedule with its next run times and its latest runs and their outcomes',
          params: scheduleParams,
          querystring: z.strictObject({ next: count(50), runs: count(200) }),
          response: { 200: scheduleDetailView, ...errorResponses(400, 403, 404) },
        },
      },
      async (request) => {
        await visibleSchedule(docket, request.principal, request.params.id)
        return scheduleDetailJson(await docket.getSchedule(request.params.id, request.query))
      },
    )

    app.patch(
      '/schedules/:id',
      {
        config,
        schema: {
          tags,
          summary: 'Update a schedule; a new timing (or resuming) counts its ticks from now',
          params: scheduleParams,
          body: scheduleUpdateInput,
          response: { 200: scheduleView, ...errorResponses(400, 403, 404, 409, 413) },
        },
      },
      async (request) => {
        await visibleSchedule(docket, request.principal, request.params.id)
        return scheduleJson(await docket.updateSchedule(request.params.id, request.body))
      },
    )

    for (const action of ['pause', 'resume'] as const) {
      app.post(
        `/schedules/:id/${action}`,
        {
          config,
          schema: {
            tags,
            summary:
              action === 'pause'
                ? 'Pause a schedule'
                : 'Resume a schedule (ticks missed while paused are not caught up)',
            params: scheduleParams,
            response: { 200: scheduleView, ...errorResponses(400, 403, 404) },
          },
        },
        async (request) => {
          await visibleSchedule(docket, request.principal, request.params.id)
          const id = request.params.id
          return scheduleJson(
            action === 'pause' ? await docket.pauseSchedule(id) : await docket.resumeSchedule(id),
          )
        },
      )
    }

    app.post(
      '/schedules/:id/run',
      {
        config,
        schema: {
          tags,
          summary: 'Run a schedule now, once (also while paused); recorded as a manual run',
          params: scheduleParams,
          response: { 201: scheduleRunView, ...errorResponses(400, 403, 404) },
        },
      },
      async (request, reply) => {
        await visibleSchedule(docket, request.principal, request.params.id)
        return reply.status(201).send(scheduleRunJson(await docket.runSchedule(request.params.id)))
      },
    )

    app.delete(
      '/schedules/:id',
      {
        config,
        schema: {
          tags,
          summary: 'Delete a schedule and its runs (the jobs it made stay)',
          params: scheduleParams,
          response: { 200: ok, ...errorResponses(400, 403, 404) },
        },
      },
      async (request) => {
        await visibleSchedule(docket, request.principal, request.params.id)
        await docket.deleteSchedule(request.params.id)
        return { ok: true as const }
      },
    )
  }
