/**
 * The W3C trace context stored with a job (https://www.w3.org/TR/trace-context/):
 * written from the add's span, read back into the parent of the run's span.
 * Docket formats and parses `traceparent` itself rather than through the
 * application's registered propagator, so what is stored is always W3C,
 * whichever propagator (B3, Jaeger, none) the application uses for HTTP.
 */
import { createTraceState, isSpanContextValid, type SpanContext } from '@opentelemetry/api'
import type { TraceContext } from '../core/types.js'

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/
/** The longest tracestate the W3C spec asks a carrier to keep (32 members of 256 characters, joined). */
const MAX_TRACESTATE = 8_224

/** The span's context as a stored trace context, or null for an invalid one (nothing is traced). */
export function toTraceContext(span: SpanContext): TraceContext | null {
  if (!isSpanContextValid(span)) return null
  const flags = (span.traceFlags & 0xff).toString(16).padStart(2, '0')
  const traceparent = `00-${span.traceId}-${span.spanId}-${flags}`
  const tracestate = span.traceState?.serialize()
  return tracestate && tracestate.length <= MAX_TRACESTATE ? { traceparent, tracestate } : { traceparent }
}

/**
 * A stored trace context as a remote span context, or null if it is not one
 * (malformed, version ff, all-zero ids): a bad value costs the link, never the job.
 */
export function fromTraceContext(stored: TraceContext | undefined | null): SpanContext | null {
  const m = stored ? TRACEPARENT.exec(stored.traceparent) : null
  if (!m || m[1] === 'ff') return null
  const span: SpanContext = {
    traceId: m[2]!,
    spanId: m[3]!,
    traceFlags: Number.parseInt(m[4]!, 16),
    isRemote: true,
  }
  if (stored?.tracestate) span.traceState = createTraceState(stored.tracestate)
  return isSpanContextValid(span) ? span : null
}
