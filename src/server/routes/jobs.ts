import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { COUNT_LIMIT } from '../../core/job-search.js'
import { jobInput, listJobsInput, priority } from '../../core/options.js'
import { JOB_STATUSES } from '../../core/types.js'
import { BULK_ACTIONS, BULK_CHUNK, BULK_MAX_IDS, type BulkAction, bulkBody } from '../../docket/bulk.js'
import type { Docket } from '../../docket.js'
import { accessOf, dashboardReadsOf } from '../internals.js'
import { mintViewerToken, VIEWER_TOKEN_TTL } from '../viewer.js'
import {
  jobDetailJson,
  jobDetailView,
  jobJson,
  jobPageView,
  jobSuggestionsView,
  jobView,
  viewerJobJson,
  viewerJobView,
} from '../views.js'
import { ownerFor, READERS, scopeJobIds, visibleJob } from './access.js'
import { errorResponses, jobParams, ok, viewerTokenQuery } from './common.js'

/** listJobsInput as a query string: the same fields and rules, status comma-separated, limit a number in text. */
const list = listJobsInput.shape
const listQuery = z.strictObject({
  queue: list.queue,
  status: z
    .string()
    .regex(
      new RegExp(`^(${JOB_STATUSES.join('|')})(,(${JOB_STATUSES.join('|')}))*$`),
      `expected one or more of ${JOB_STATUSES.join(', ')}, comma-separated`,
    )
    .optional(),
  type: list.type,
  owner: list.owner,
  batchId: list.batchId,
  fingerprint: list.fingerprint.describe(
    "jobs whose last error is of this class: a fingerprint from the top errors or a job's lastError",
  ),
  id: list.id.describe('a job id, its first 6 or more characters, or the 8-character short id (its last 8)'),
  search: list.search.describe(
    'free text: matches an id prefix or short id, text in the payload JSON, or the last error message (case-insensitive)',
  ),
  where: list.where.describe(
    'conditions on the payload joined by `and`: payload.<key>[.<key>…] (= | != | < | <= | > | >=) <JSON number, "string", true, false or null>, e.g. payload.customerId = 42 and payload.user.email = "a@b.c"',
  ),
  count: z
    .enum(['true', 'false'])
    .optional()
    .describe(`true: also count every matching job (all pages), up to ${COUNT_LIMIT}`),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  cursor: list.cursor,
  sort: list.sort,
  order: list.order,
})

export const jobRoutes =
  ({ docket }: { docket: Docket }): FastifyPluginAsync =>
  async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>()
    const tags = ['jobs']
    const config = { roles: [...READERS] }

    app.post(
      '/jobs',
      {
        config,
        schema: {
          tags,
          summary: 'Create a job',
          body: jobInput,
          response: { 201: jobView, ...errorResponses(400, 403, 404, 409, 413) },
        },
      },
      async (request, reply) => {
        const owner = ownerFor(request.principal, request.body.owner)
        const [input] = scopeJobIds(request.principal, [{ ...request.body, owner }])
        return reply.status(201).send(jobJson(await docket.add(input!)))
      },
    )

    app.post(
      '/jobs/bulk',
      {
        config,
        schema: {
          tags,
          summary: 'Create many jobs in one transaction (all or none)',
          body: z.strictObject({ jobs: z.array(jobInput).min(1).max(1000) }),
          response: { 201: z.object({ jobs: z.array(jobView) }), ...errorResponses(400, 403, 404, 409, 413) },
        },
      },
      async (request, reply) => {
        const inputs = scopeJobIds(
          request.principal,
          request.body.jobs.map((j) => ({ ...j, owner: ownerFor(request.principal, j.owner) })),
        )
        return reply.status(201).send({ jobs: (await docket.addMany(inputs)).map((j) => jobJson(j)) })
      },
    )

    app.get(
      '/jobs',
      {
        config,
        schema: {
          tags,
          summary:
            'List jobs: filters, search by id, text and payload values, keyset pagination (pass nextCursor back as cursor), sort on indexed columns',
          description:
            'A user key lists, searches and counts only its own jobs. `id`, `search`, `where` and `count` are described in docs/search.md.',
          querystring: listQuery,
          response: { 200: jobPageView, ...errorResponses(400, 403) },
        },
      },
      async (request) => {
        const { count, ...q } = request.query
        const owner = request.principal.role === 'admin' ? q.owner : request.principal.name
        const filter = {
          ...q,
          owner,
          status: q.status?.split(',') as (typeof JOB_STATUSES)[number][] | undefined,
          count: count === 'true',
        }
        if (request.principal.role !== 'admin' && q.owner !== undefined && q.owner !== owner) {
          // Someone else's jobs: none, after the same checks of the filter as for one's own.
          await docket.listJobs({ ...filter, owner: `${owner}`, limit: 1, count: false })
          return { jobs: [], nextCursor: null, ...(filter.count ? { count: { value: 0, exact: true } } : {}) }
        }
        const page = await docket.listJobs(filter)
        return {
          jobs: page.jobs.map((j) => jobJson(j)),
          nextCursor: page.nextCursor,
          ...(page.count ? { count: page.count } : {}),
        }
      },
    )

    app.get(
      '/jobs/suggestions',
      {
        config,
        schema: {
          tags,
          summary:
            "Queue names and job types for a job filter to suggest (a user's: from their own jobs only)",
          response: { 200: jobSuggestionsView, ...errorResponses(403) },
        },
      },
      async (request) =>
        dashboardReadsOf(docket).jobFilterSuggestions(
          request.principal.role === 'admin' ? {} : { owner: request.principal.name },
        ),
    )

    app.get(
      '/jobs/:id',
      {
        config,
        schema: {
          tags,
          summary: 'Get a job with its events, dependencies and artifacts',
          params: jobParams,
          response: { 200: jobDetailView, ...errorResponses(400, 403, 404) },
        },
      },
      async (request) => jobDetailJson(await visibleJob(docket, request.principal, request.params.id)),
    )

    app.get(
      '/jobs/:id/view',
      {
        config: { ...config, viewer: true },
        schema: {
          tags,
          summary:
            'A job’s narrow view, for showing its progress to someone without a key: status, progress, steps and times',
          description:
            'Open to a viewer token of this job (`?token=`, POST /jobs/{id}/viewer-token), without a key, from any origin; and to the keys that read the job, to see what the token shows. No payload, result, owner, worker ids, errors, stacks, attempts, files or log lines.',
          params: jobParams,
          querystring: z.strictObject({ token: viewerTokenQuery }),
          response: { 200: viewerJobView, ...errorResponses(400, 403, 404) },
        },
      },
      async (request) => viewerJobJson(await visibleJob(docket, request.principal, request.params.id)),
    )

    app.post(
      '/jobs/actions/:action',
      {
        config,
        schema: {
          tags,
          summary:
            'Retry, cancel, promote or delete every job matching a filter (the filters and search of GET /jobs), or each of a list of ids',
          description: `A filter without a queue needs \`all: true\` (every queue); \`{ "filter": {} }\` alone is refused. Done by the server in chunks of ${BULK_CHUNK}, each job in its own transaction and recorded in its own events. \`matched\`: the jobs named that were in a state the action applies to (retry: failed or cancelled; cancel: unfinished; promote: held or scheduled; delete: not active); \`changed\`: those it changed (a job that moved on meanwhile is matched, not changed). A user key acts only on its own jobs: another's are never matched, exactly as missing ones. At most ${BULK_MAX_IDS} ids.`,
          params: z.strictObject({
            action: z.enum(Object.keys(BULK_ACTIONS) as [BulkAction, ...BulkAction[]]),
          }),
          body: bulkBody,
          response: {
            200: z.object({ matched: z.number().int(), changed: z.number().int() }),
            ...errorResponses(400, 403),
          },
        },
      },
      async (request) => {
        const owner = request.principal.role === 'admin' ? undefined : request.principal.name
        return docket.actOnJobs(request.params.action, { ...request.body, ...(owner ? { owner } : {}) })
      },
    )

    app.post(
      '/jobs/:id/viewer-token',
      {
        config,
        schema: {
          tags,
          summary:
            'Mint a read-only, expiring token that opens this one job’s detail and live feed without a key (to show a customer its progress)',
          description:
            'Use it as `?token=` on GET /jobs/{id}/view (the job’s narrow view) and GET /events (SSE or WebSocket; the feed is this job’s only, narrowed alike). It opens nothing else: any other job is NOT_FOUND, any other route needs a key. Only its hash is stored; it cannot be listed or read back.',
          params: jobParams,
          body: z
            .strictObject({
              ttlMs: z
                .number()
                .int()
                .min(VIEWER_TOKEN_TTL.min)
                .max(VIEWER_TOKEN_TTL.max)
                .optional()
                .describe('how long it lives: 1 minute to 7 days; default 1 hour'),
            })
            .nullish(),
          response: {
            201: z.object({
              token: z.string(),
              jobId: z.string(),
              expiresAt: z.string().describe('ISO 8601 date-time'),
              job: z.string().describe('the job’s narrow view’s URL with the token (GET /jobs/{id}/view)'),
              events: z.string().describe('the job’s live feed URL with the token'),
            }),
            ...errorResponses(400, 403, 404),
          },
        },
      },
      async (request, reply) => {
        const job = await visibleJob(docket, request.principal, request.params.id)
        const { token, expiresAt } = await mintViewerToken(docket, job.id, request.body?.ttlMs)
        const q = `token=${encodeURIComponent(token)}`
        return reply.status(201).send({
          token,
          jobId: job.id,
          expiresAt: expiresAt.toISOString(),
          job: `/api/v1/jobs/${job.id}/view?${q}`,
          events: `/api/v1/events?jobId=${job.id}&${q}`,
        })
      },
    )

    app.delete(
      '/jobs/:id/viewer-tokens',
      {
        config,
        schema: {
          tags,
          summary: 'End every viewer token of this job: pages and feeds opened with them stop working',
          description:
            'For a token handed out by mistake, or a customer who should no longer watch. GET /jobs/{id}/view?token= answers 401 at once; a feed opened with one of them ends within a few seconds (a `feed.closed` event over SSE, close code 1008 over a WebSocket). Tokens cannot be listed, so this ends them all.',
          params: jobParams,
          response: {
            200: z.object({ revoked: z.number().int().describe('how many live tokens ended') }),
            ...errorResponses(400, 403, 404),
          },
        },
      },
      async (request) => {
        const job = await visibleJob(docket, request.principal, request.params.id)
        return { revoked: await accessOf(docket).revokeViewerTokens(job.id) }
      },
    )

    const actions = {
      cancel: (id: string) => docket.cancelJob(id),
      retry: (id: string) => docket.retryJob(id),
      promote: async (id: string) => {
        await docket.promote(id)
        return (await docket.getJob(id)) as Awaited<ReturnType<Docket['cancelJob']>>
      },
    }
    for (const [action, run] of Object.entries(actions)) {
      app.post(
        `/jobs/:id/${action}`,
        {
          config,
          schema: {
            tags,
            summary: `${action[0]!.toUpperCase()}${action.slice(1)} a job`,
            params: jobParams,
            response: { 200: jobView, ...errorResponses(400, 403, 404, 409) },
          },
        },
        async (request) => {
          await visibleJob(docket, request.principal, request.params.id)
          return jobJson(await run(request.params.id))
        },
      )
    }

    app.patch(
      '/jobs/:id',
      {
        config,
        schema: {
          tags,
          summary: 'Change a job’s priority',
          params: jobParams,
          body: z.strictObject({ priority }),
          response: { 200: jobView, ...errorResponses(400, 403, 404, 409) },
        },
      },
      async (request) => {
        await visibleJob(docket, request.principal, request.params.id)
        return jobJson(await docket.setPriority(request.params.id, request.body.priority))
      },
    )

    app.delete(
      '/jobs/:id',
      {
        config,
        schema: {
          tags,
          summary: 'Delete a job (not while active: cancel it first)',
          params: jobParams,
          response: { 200: ok, ...errorResponses(400, 403, 404, 409) },
        },
      },
      async (request) => {
        await visibleJob(docket, request.principal, request.params.id)
        await docket.removeJob(request.params.id)
        return { ok: true as const }
      },
    )
  }
