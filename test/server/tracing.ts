/** Tracing over HTTP: a job added over the API is traced, and a remote worker's claim hands it the trace context. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import { inMemoryTracing, spansOf, withoutTracing } from '../support/tracing.js'
import { type Driver, useServer } from './harness.js'

export function tracingSuite(driver: Driver): void {
  describe(`tracing over HTTP [${driver}]`, () => {
    const s = useServer(driver)
    let exporter: InMemorySpanExporter
    before(() => {
      exporter = inMemoryTracing()
    })
    after(() => withoutTracing())

    it('a remote worker’s claim carries the traceparent of the add, and the claim is traced', async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'tr-http' })
      const job = await s.ok(201, 'alice', 'POST', '/api/v1/jobs', { queue: 'tr-http', type: 'x' })
      const [add] = spansOf(exporter, 'add tr-http', job.id)
      assert.ok(add, 'the add over HTTP made a span')
      const { traceId, spanId } = add.spanContext()
      assert.equal(job.traceContext, undefined, 'only the claim’s answer shows it')

      await s.ok(201, 'worker', 'POST', '/api/v1/workers', { id: 'w-tr', queues: ['tr-http'] })
      const [claimed] = (
        await s.ok(200, 'worker', 'POST', '/api/v1/workers/w-tr/claim', { queues: ['tr-http'] })
      ).jobs
      assert.equal(claimed.id, job.id)
      assert.deepEqual(claimed.traceContext, { traceparent: `00-${traceId}-${spanId}-01` })
      const [claim] = spansOf(exporter, 'claim tr-http', job.id)
      assert.equal(claim?.attributes['messaging.client.id'], 'w-tr')
    })
  })
}
