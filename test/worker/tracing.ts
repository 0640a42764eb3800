/** OpenTelemetry: spans for add, claim and run, the add's trace context stored with the job, the run in its trace. */
import assert from 'node:assert/strict'
import { after, afterEach, before, beforeEach, describe, it } from 'node:test'
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import type { InMemorySpanExporter, ReadableSpan } from '@opentelemetry/sdk-trace-base'
import pg from 'pg'
import { Docket, type Job, Worker, type WorkerOptions } from '../../src/index.js'
import { inMemoryTracing, spansOf, withoutTracing } from '../support/tracing.js'
import { type Driver, freshTarget, type Target, until } from './harness.js'

export function tracingSuite(driver: Driver): void {
  describe(`tracing [${driver}]`, () => {
    let target: Target
    let docket: Docket
    let exporter: InMemorySpanExporter
    const workers: Worker[] = []

    before(async () => {
      target = await freshTarget(driver)
      docket = await Docket.open(target.url)
    })
    beforeEach(() => {
      exporter = inMemoryTracing()
      exporter.reset()
    })
    afterEach(async () => {
      await Promise.all(workers.splice(0).map((w) => w.close()))
    })
    after(async () => {
      withoutTracing()
      await docket.close()
      await target.cleanup()
    })

    const start = (
      queues: string[],
      handlers: WorkerOptions['handlers'],
      extra: Partial<WorkerOptions> = {},
    ) => {
      const w = new Worker(docket, { queues, handlers, pollMs: 50, onError: () => {}, ...extra })
      workers.push(w)
      return w.start()
    }
    const settled = (id: string) =>
      until(
        async () => ['completed', 'failed', 'cancelled'].includes((await docket.getJob(id)).status),
        10_000,
        `job ${id} to finish`,
      )
    /** The one finished span called `name` about job `id`, waited for: a run's span ends just after its outcome is written. */
    const spanOf = async (name: string, id: string): Promise<ReadableSpan> => {
      await until(() => spansOf(exporter, name, id).length > 0, 10_000, `the span '${name}' of job ${id}`)
      const spans = spansOf(exporter, name, id)
      assert.equal(spans.length, 1, `one '${name}' span for job ${id}`)
      return spans[0]!
    }
    const tracer = () => trace.getTracer('test-app')

    it('an add inside a request span is its child, a PRODUCER span naming the job, queue and type', async () => {
      await docket.createQueue({ name: 'tr-add' })
      const job = await tracer().startActiveSpan('POST /documents', async (request) => {
        try {
          return await docket.add('tr-add', 'analyse', { url: 'x' })
        } finally {
          request.end()
        }
      })
      const request = exporter.getFinishedSpans().find((s) => s.name === 'POST /documents')!
      const add = await spanOf('add tr-add', job.id)
      assert.equal(add.kind, SpanKind.PRODUCER)
      assert.equal(add.parentSpanContext?.spanId, request.spanContext().spanId)
      assert.equal(add.spanContext().traceId, request.spanContext().traceId)
      assert.deepEqual(
        {
          system: add.attributes['messaging.system'],
          operation: add.attributes['messaging.operation.type'],
          name: add.attributes['messaging.operation.name'],
          queue: add.attributes['messaging.destination.name'],
          id: add.attributes['messaging.message.id'],
          type: add.attributes['docket.job.type'],
        },
        { system: 'docket', operation: 'send', name: 'add', queue: 'tr-add', id: job.id, type: 'analyse' },
      )
    })

    it('stores the add’s trace context with the job; a claim links to it and hands it to the worker', async () => {
      await docket.createQueue({ name: 'tr-claim' })
      const [a, b] = await docket.addMany([
        { queue: 'tr-claim', type: 't', payload: { n: 1 } },
        { queue: 'tr-claim', type: 't', payload: { n: 2 } },
      ])
      const add = await spanOf('add tr-claim', a!.id)
      assert.deepEqual(add.attributes['docket.job.ids'], [a!.id, b!.id])
      assert.equal(add.attributes['messaging.batch.message_count'], 2)
      const { traceId, spanId } = add.spanContext()

      const claimed = await docket.workers.claim({ workerId: 'w-trace', queues: ['tr-claim'], limit: 2 })
      assert.deepEqual(
        claimed.map((j) => j.traceContext?.traceparent),
        [`00-${traceId}-${spanId}-01`, `00-${traceId}-${spanId}-01`],
      )
      const claim = await spanOf('claim tr-claim', a!.id)
      assert.equal(claim.kind, SpanKind.CLIENT)
      assert.equal(claim.attributes['messaging.operation.type'], 'receive')
      assert.equal(claim.attributes['messaging.client.id'], 'w-trace')
      assert.equal(claim.attributes['messaging.batch.message_count'], 2)
      assert.deepEqual(
        claim.links.map((l) => [l.context.spanId, l.attributes?.['messaging.message.id']]),
        [
          [spanId, a!.id],
          [spanId, b!.id],
        ],
      )
      await docket.workers.release(claimed)

      // A claim that takes nothing (an idle poll) records no span.
      exporter.reset()
      assert.deepEqual(await docket.workers.claim({ workerId: 'w-trace', queues: ['tr-nothing-here'] }), [])
      assert.deepEqual(
        exporter.getFinishedSpans().filter((s) => s.name.startsWith('claim')),
        [],
      )
    })

    it('runs the handler in a CONSUMER span, a child of the add, with the handler’s own spans inside it', async () => {
      await docket.createQueue({ name: 'tr-run' })
      const job = await tracer().startActiveSpan('request', async (request) => {
        try {
          return await docket.add('tr-run', 'analyse', {})
        } finally {
          request.end()
        }
      })
      const add = await spanOf('add tr-run', job.id)
      await start(['tr-run'], {
        analyse: async (_job, ctx) => {
          await tracer().startActiveSpan('inside the handler', async (inner) => {
            await ctx.progress(50)
            inner.end()
          })
          return { ok: true }
        },
      })
      await settled(job.id)
      const run = await spanOf('run tr-run', job.id)
      assert.equal(run.kind, SpanKind.CONSUMER)
      assert.equal(run.spanContext().traceId, add.spanContext().traceId, 'the run is in the request’s trace')
      assert.equal(run.parentSpanContext?.spanId, add.spanContext().spanId)
      assert.deepEqual(
        run.links.map((l) => l.context.spanId),
        [add.spanContext().spanId],
      )
      assert.deepEqual(
        {
          queue: run.attributes['messaging.destination.name'],
          id: run.attributes['messaging.message.id'],
          type: run.attributes['docket.job.type'],
          attempt: run.attributes['docket.job.attempt'],
          outcome: run.attributes['docket.job.outcome'],
          operation: run.attributes['messaging.operation.type'],
        },
        {
          queue: 'tr-run',
          id: job.id,
          type: 'analyse',
          attempt: 1,
          outcome: 'completed',
          operation: 'process',
        },
      )
      assert.notEqual(run.status.code, SpanStatusCode.ERROR)
      const inner = exporter.getFinishedSpans().find((s) => s.name === 'inside the handler')!
      assert.equal(inner.parentSpanContext?.spanId, run.spanContext().spanId)
    })

    it('records each failed attempt: outcome retrying then failed, status ERROR, the exception', async () => {
      await docket.createQueue({ name: 'tr-fail', maxAttempts: 2, backoff: { type: 'fixed', delayMs: 20 } })
      const job = await docket.add('tr-fail', 'broken', {})
      await start(['tr-fail'], {
        broken: (j) => {
          throw new Error(`attempt ${j.attempts} broke`)
        },
      })
      await settled(job.id)
      await until(() => spansOf(exporter, 'run tr-fail', job.id).length === 2, 10_000, 'two run spans')
      const runs = spansOf(exporter, 'run tr-fail', job.id).sort(
        (x, y) => Number(x.attributes['docket.job.attempt']) - Number(y.attributes['docket.job.attempt']),
      )
      assert.deepEqual(
        runs.map((r) => [
          r.attributes['docket.job.attempt'],
          r.attributes['docket.job.outcome'],
          r.status.code,
        ]),
        [
          [1, 'retrying', SpanStatusCode.ERROR],
          [2, 'failed', SpanStatusCode.ERROR],
        ],
      )
      const exception = runs[1]!.events.find((e) => e.name === 'exception')
      assert.equal(exception?.attributes?.['exception.message'], 'attempt 2 broke')
      assert.equal(runs[1]!.attributes['error.type'], 'Error')
      const add = await spanOf('add tr-fail', job.id)
      for (const r of runs) assert.equal(r.parentSpanContext?.spanId, add.spanContext().spanId)
    })

    if (driver === 'postgres') {
      it('an add in the caller’s transaction stores its trace context too, and the run joins its trace', async () => {
        await docket.createQueue({ name: 'tr-tx' })
        const { findPostgres } = await import('../support/postgres.js')
        const pool = new pg.Pool({ connectionString: (await findPostgres()).url, max: 1 })
        const client = await pool.connect()
        let job: Job
        try {
          await client.query('BEGIN')
          job = await tracer().startActiveSpan('checkout', async (request) => {
            try {
              return await docket.add({ queue: 'tr-tx', type: 'receipt', payload: {} }, { client })
            } finally {
              request.end()
            }
          })
          await client.query('COMMIT')
        } finally {
          client.release()
          await pool.end()
        }
        const add = await spanOf('add tr-tx', job.id)
        await start(['tr-tx'], () => ({ sent: true }))
        await settled(job.id)
        const run = await spanOf('run tr-tx', job.id)
        assert.equal(run.parentSpanContext?.spanId, add.spanContext().spanId)
        assert.equal(run.spanContext().traceId, add.spanContext().traceId)
      })
    }

    it('an add that fails records the error on its span', async () => {
      await assert.rejects(docket.add('tr-no-such-queue', 't', {}), { code: 'NOT_FOUND' })
      const add = exporter.getFinishedSpans().find((s) => s.name === 'add tr-no-such-queue')!
      assert.equal(add.status.code, SpanStatusCode.ERROR)
      assert.equal(add.attributes['error.type'], 'NOT_FOUND')
    })

    it('without an SDK nothing is stored, and the job still runs', async () => {
      await docket.createQueue({ name: 'tr-off' })
      withoutTracing()
      const job = await docket.add('tr-off', 't', {})
      const [claimed] = await docket.workers.claim({ workerId: 'w-off', queues: ['tr-off'] })
      assert.equal(claimed?.id, job.id)
      assert.equal(claimed?.traceContext, undefined)
      await docket.workers.complete(claimed!, null)
      assert.equal((await docket.getJob(job.id)).status, 'completed')
      assert.deepEqual(exporter.getFinishedSpans(), [])
    })
  })
}
