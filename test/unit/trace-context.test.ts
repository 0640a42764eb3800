import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createTraceState, INVALID_SPAN_CONTEXT, type SpanContext, TraceFlags } from '@opentelemetry/api'
import { fromTraceContext, toTraceContext } from '../../src/tracing/trace-context.js'

const span: SpanContext = {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  traceFlags: TraceFlags.SAMPLED,
}

describe('the trace context stored with a job', () => {
  it('is the W3C traceparent of the span, with its tracestate when it has one', () => {
    assert.deepEqual(toTraceContext(span), {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    })
    assert.deepEqual(toTraceContext({ ...span, traceFlags: 0, traceState: createTraceState('a=1,b=2') }), {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00',
      tracestate: 'a=1,b=2',
    })
  })

  it('is nothing for an invalid span (no SDK registered)', () => {
    assert.equal(toTraceContext(INVALID_SPAN_CONTEXT), null)
  })

  it('reads back as a remote span context', () => {
    const read = fromTraceContext({ ...toTraceContext(span)!, tracestate: 'a=1' })
    assert.deepEqual(
      { ...read, traceState: read?.traceState?.serialize() },
      { ...span, isRemote: true, traceState: 'a=1' },
    )
  })

  it('refuses what is not a traceparent, so a bad value costs the link and never the job', () => {
    for (const traceparent of [
      '',
      'garbage',
      'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', // version ff is forbidden
      '00-00000000000000000000000000000000-b7ad6b7169203331-01', // all-zero trace id
      '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01', // all-zero span id
      '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01', // upper case
    ]) {
      assert.equal(fromTraceContext({ traceparent }), null, traceparent)
    }
    assert.equal(fromTraceContext(undefined), null)
    assert.equal(fromTraceContext(null), null)
  })
})
