/**
 * An OpenTelemetry SDK for tests: spans kept in memory (InMemorySpanExporter),
 * context carried through async code (AsyncLocalStorage), registered globally
 * once per process, as an application would register its own.
 */
import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'

let exporter: InMemorySpanExporter | null = null
let provider: BasicTracerProvider | null = null

/** Registers the in-memory SDK (once) and returns its exporter. */
export function inMemoryTracing(): InMemorySpanExporter {
  if (!exporter) {
    exporter = new InMemorySpanExporter()
    provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  }
  trace.setGlobalTracerProvider(provider!)
  return exporter
}

/** Unregisters the SDK: Docket's spans become no-ops again, as in an application that registers none. */
export function withoutTracing(): void {
  trace.disable()
}

/** The finished spans named `name` that concern job `jobId` (its id in an attribute or among several). */
export function spansOf(exporter: InMemorySpanExporter, name: string, jobId: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => {
    if (s.name !== name) return false
    const one = s.attributes['messaging.message.id']
    const many = s.attributes['docket.job.ids']
    return one === jobId || (Array.isArray(many) && (many as unknown[]).includes(jobId))
  })
}
