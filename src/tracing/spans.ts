/**
 * OpenTelemetry spans for adding, claiming and running jobs (docs/tracing.md).
 *
 * Only `@opentelemetry/api` is used: every call is a no-op until the
 * application registers an SDK, and then the spans go wherever it exports.
 * Attribute names follow OpenTelemetry's messaging conventions where they fit
 * (`messaging.*`, with `messaging.system` = "docket"); the rest are `docket.*`.
 *
 *   add    PRODUCER  one span per add call; its context is stored with each job
 *   claim  CLIENT    one span per claim that took jobs, linked to each job's add
 *   run    CONSUMER  one span per attempt, a child of the add's span (and
 *                    linked to it); the handler runs inside it, so its own
 *                    spans are children of the run
 */
import {
  type Attributes,
  type Context,
  context,
  type Link,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api'
import type { ClaimedJob, Job, TraceContext } from '../core/types.js'
import { fromTraceContext, toTraceContext } from './trace-context.js'

/** The instrumentation scope every span of Docket's is created in. */
export const TRACER_NAME = 'docket'

export const ATTRIBUTES = {
  system: 'messaging.system',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  destination: 'messaging.destination.name',
  messageId: 'messaging.message.id',
  batchCount: 'messaging.batch.message_count',
  clientId: 'messaging.client.id',
  errorType: 'error.type',
  jobType: 'docket.job.type',
  jobIds: 'docket.job.ids',
  attempt: 'docket.job.attempt',
  outcome: 'docket.job.outcome',
  deduplicated: 'docket.job.deduplicated_count',
} as const

/**
 * How an attempt ended, as the run span's `docket.job.outcome` says: completed;
 * failed and to run again (retrying) or not (failed); its lease gone (cancelled,
 * lease-lost) or handed back (shutdown); or its failure not recorded (unrecorded).
 */
export type RunOutcome =
  | 'completed'
  | 'retrying'
  | 'failed'
  | 'cancelled'
  | 'lease-lost'
  | 'shutdown'
  | 'snoozed'
  | 'unrecorded'

/** Outcomes that are errors: the span's status says ERROR. */
const ERROR_OUTCOMES: ReadonlySet<RunOutcome> = new Set(['retrying', 'failed', 'lease-lost', 'unrecorded'])

const tracer = () => trace.getTracer(TRACER_NAME)

/** The job ids of a call: one as `messaging.message.id`, several as `docket.job.ids` with their count. */
function idAttributes(ids: string[]): Attributes {
  if (ids.length === 1) return { [ATTRIBUTES.messageId]: ids[0] }
  return { [ATTRIBUTES.jobIds]: ids, [ATTRIBUTES.batchCount]: ids.length }
}

/** The one value, when every item has the same; conventions name a destination only when there is one. */
function single(values: string[]): string | undefined {
  const distinct = new Set(values)
  return distinct.size === 1 ? values[0] : undefined
}

/** `<operation> <queue>`, or the operation alone when the call spans several queues. */
function spanName(operation: string, queue: string | undefined): string {
  return queue === undefined ? operation : `${operation} ${queue}`
}

function common(operationType: string, operationName: string, queue: string | undefined): Attributes {
  const attributes: Attributes = {
    [ATTRIBUTES.system]: 'docket',
    [ATTRIBUTES.operationType]: operationType,
    [ATTRIBUTES.operationName]: operationName,
  }
  if (queue !== undefined) attributes[ATTRIBUTES.destination] = queue
  return attributes
}

function recordError(span: Span, error: unknown): void {
  const e = error instanceof Error ? error : new Error(String(error))
  span.recordException(e)
  span.setStatus({ code: SpanStatusCode.ERROR, message: e.message })
  const code = (error as { code?: unknown })?.code
  span.setAttribute(ATTRIBUTES.errorType, typeof code === 'string' ? code : e.name)
}

/**
 * Runs an add (one or many jobs, one transaction) in a PRODUCER span. `insert`
 * is given the span's trace context to store with every job (null when nothing
 * is traced), and runs inside the span, so the database's own spans are its children.
 */
export async function traceAdd<R extends { jobs: Job[]; deduplicated: boolean[] }>(
  jobs: { queue: string; type: string }[],
  insert: (traceContext: TraceContext | null) => Promise<R>,
): Promise<R> {
  const queue = single(jobs.map((j) => j.queue))
  const type = single(jobs.map((j) => j.type))
  const attributes = common('send', 'add', queue)
  if (type !== undefined) attributes[ATTRIBUTES.jobType] = type
  const span = tracer().startSpan(spanName('add', queue), { kind: SpanKind.PRODUCER, attributes })
  try {
    const result = await context.with(trace.setSpan(context.active(), span), () =>
      insert(toTraceContext(span.spanContext())),
    )
    span.setAttributes(idAttributes(result.jobs.map((j) => j.id)))
    const deduplicated = result.deduplicated.filter(Boolean).length
    if (deduplicated > 0) span.setAttribute(ATTRIBUTES.deduplicated, deduplicated)
    return result
  } catch (error) {
    recordError(span, error)
    throw error
  } finally {
    span.end()
  }
}

/**
 * Runs a claim and records it as a CLIENT span linked to the add of each job
 * it took. A claim that took nothing records no span: idle workers poll, and a
 * span per poll would bury the traces that matter. (The span is made after
 * the claim, with the claim's start time, for that reason.)
 */
export async function traceClaim(
  workerId: string,
  queues: string[],
  claim: () => Promise<ClaimedJob[]>,
): Promise<ClaimedJob[]> {
  const startTime = new Date()
  const queue = queues.length === 1 ? queues[0] : undefined
  const attributes = { ...common('receive', 'claim', queue), [ATTRIBUTES.clientId]: workerId }
  const start = (links: Link[]) =>
    tracer().startSpan(spanName('claim', queue), { kind: SpanKind.CLIENT, startTime, attributes, links })
  let jobs: ClaimedJob[]
  try {
    jobs = await claim()
  } catch (error) {
    const span = start([])
    recordError(span, error)
    span.end()
    throw error
  }
  if (jobs.length === 0) return jobs
  const span = start(jobs.flatMap(linkToAdd))
  span.setAttributes(idAttributes(jobs.map((j) => j.id)))
  span.end()
  return jobs
}

function linkToAdd(job: ClaimedJob): Link[] {
  const added = fromTraceContext(job.traceContext)
  return added ? [{ context: added, attributes: { [ATTRIBUTES.messageId]: job.id } }] : []
}

/**
 * The span of one attempt. Its parent is the add's span when the job was
 * traced (so a trace follows a request into the jobs it queued), else
 * whatever is active in the worker; it also links to the add, as the
 * messaging conventions ask of a consumer's span.
 */
export class RunSpan {
  readonly #span: Span
  readonly #context: Context
  #ended = false

  constructor(job: ClaimedJob, workerId: string) {
    const added = fromTraceContext(job.traceContext)
    const parent = added ? trace.setSpanContext(context.active(), added) : context.active()
    this.#span = tracer().startSpan(
      spanName('run', job.queue),
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          ...common('process', 'run', job.queue),
          [ATTRIBUTES.messageId]: job.id,
          [ATTRIBUTES.jobType]: job.type,
          [ATTRIBUTES.attempt]: job.attempts,
          [ATTRIBUTES.clientId]: workerId,
        },
        links: added ? [{ context: added }] : [],
      },
      parent,
    )
    this.#context = trace.setSpan(parent, this.#span)
  }

  /** Calls `fn` with this span active: spans the handler makes are its children. */
  within<T>(fn: () => T): T {
    return context.with(this.#context, fn)
  }

  /** Ends the span with the attempt's outcome (and the error, for a failure); later calls change nothing. */
  end(outcome: RunOutcome, error?: unknown): void {
    if (this.#ended) return
    this.#ended = true
    this.#span.setAttribute(ATTRIBUTES.outcome, outcome)
    if (ERROR_OUTCOMES.has(outcome) && error !== undefined) recordError(this.#span, error)
    else if (ERROR_OUTCOMES.has(outcome))
      this.#span.setStatus({ code: SpanStatusCode.ERROR, message: outcome })
    this.#span.end()
  }
}
