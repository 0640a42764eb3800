/** Statistics (JSON, for the dashboard) and Prometheus metrics. */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { z } from 'zod'
import { JOB_STATUSES } from '../../core/types.js'
import type { Docket } from '../../docket.js'
import { healthJson, statsView } from '../views.js'
import { ADMINS } from './access.js'
import { errorResponses, queueParams } from './common.js'

export const statsRoutes =
  ({
    docket,
    onEveryResponse,
    openFeeds = () => 0,
  }: {
    docket: Docket
    onEveryResponse: (hook: (request: FastifyRequest, reply: FastifyReply) => Promise<void>) => void
    /** How many live feeds the server has open (the docket_live_feeds gauge). */
    openFeeds?: () => number
  }): FastifyPluginAsync =>
  async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>()
    const config = { roles: [...ADMINS] }
    const tags = ['stats']

    app.get(
      '/api/v1/stats',
      {
        config,
        schema: {
          tags,
          summary: 'Statistics across all queues',
          response: { 200: statsView, ...errorResponses(403) },
        },
      },
      async () => docket.stats(),
    )
    app.get(
      '/api/v1/queues/:name/stats',
      {
        config,
        schema: {
          tags,
          summary: 'Statistics of one queue, with its health (latency, 1- and 5-minute rates, top errors)',
          params: queueParams,
          response: { 200: statsView, ...errorResponses(400, 403, 404) },
        },
      },
      async (request) => {
        const [stats, health] = await Promise.all([
          docket.stats(request.params.name),
          docket.queueHealth(request.params.name),
        ])
        return { ...stats, health: healthJson(health) }
      },
    )

    const registry = new Registry()
    const jobs = new Gauge({
      name: 'docket_jobs',
      help: 'Jobs by queue and state',
      labelNames: ['queue', 'state'],
      registers: [registry],
    })
    const workers = new Gauge({
      name: 'docket_workers',
      help: 'Registered workers by status',
      labelNames: ['status'],
      registers: [registry],
    })
    const throughput = new Gauge({
      name: 'docket_jobs_finished_last_hour',
      help: 'Jobs finished in the last hour, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    })
    const runTime = new Gauge({
      name: 'docket_job_run_seconds',
      help: 'Run time of jobs finished in the last hour, by quantile',
      labelNames: ['quantile'],
      registers: [registry],
    })
    const latency = new Gauge({
      name: 'docket_queue_latency_seconds',
      help: 'Age of the oldest ready job of each queue (0 when none is ready)',
      labelNames: ['queue'],
      registers: [registry],
    })
    new Gauge({
      name: 'docket_live_feeds',
      help: 'Live feeds (SSE and WebSocket) open on this server',
      registers: [registry],
      collect() {
        this.set(openFeeds())
      },
    })
    const http = new Counter({
      name: 'docket_http_requests_total',
      help: 'HTTP requests by method, route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    })
    const httpTime = new Histogram({
      name: 'docket_http_request_seconds',
      help: 'HTTP request durations',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    })

    // Counted for every route of the app, not just this plugin's: the hook goes on the root instance.
    onEveryResponse(async (request, reply) => {
      const route = request.routeOptions.url ?? 'unknown'
      http.inc({ method: request.method, route, status: String(reply.statusCode) })
      httpTime.observe({ method: request.method, route }, reply.elapsedTime / 1000)
    })

    app.get(
      '/metrics',
      {
        config,
        schema: {
          tags,
          summary: 'Prometheus metrics (admin keys only)',
          response: {
            200: {
              description: 'the Prometheus text exposition format',
              content: { 'text/plain': { schema: z.string() } },
            },
            ...errorResponses(403),
          },
        },
      },
      async (_request, reply) => {
        const [counts, list, stats, queues] = await Promise.all([
          docket.countJobs(),
          docket.listWorkers(),
          docket.stats(),
          docket.listQueues(),
        ])
        const health = await Promise.all(
          queues.map((q) =>
            docket.queueHealth(q.name).then(
              (h) => [q.name, h] as const,
              () => null,
            ),
          ),
        )
        latency.reset()
        for (const h of health) if (h) latency.set({ queue: h[0] }, h[1].latencyMs / 1000)
        jobs.reset()
        for (const [queue, c] of Object.entries(counts))
          for (const s of JOB_STATUSES) jobs.set({ queue, state: s }, c[s])
        workers.reset()
        for (const status of ['up', 'lost', 'stopped'])
          workers.set({ status }, list.filter((w) => w.status === status).length)
        throughput.set({ outcome: 'completed' }, stats.lastHour.completed)
        throughput.set({ outcome: 'failed' }, stats.lastHour.failed)
        for (const [q, v] of Object.entries(stats.lastHour.runMs))
          runTime.set({ quantile: q }, v === null ? Number.NaN : v / 1000)
        return reply.header('content-type', registry.contentType).send(await registry.metrics())
      },
    )
  }
