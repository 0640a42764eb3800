/**
 * Compile-time tests of the worker's events, checked by `npm run typecheck`:
 * listeners are typed by event, and by the task map of a Worker<Tasks>.
 * Nothing here runs.
 */
import { type ClaimedJob, Docket, type Job, Worker, type WorkerListener } from '../../src/index.js'

type Tasks = {
  analyse: { payload: { url: string }; result: { words: number } }
  render: { payload: { frames: number }; result: { seconds: number } }
}

/** `true` only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const same = <A, B>(_proof: Equal<A, B>) => {}

export async function typedEvents(url: string) {
  const docket = await Docket.open<Tasks>(url)
  const worker = new Worker<Tasks>(docket, { queues: ['docs'], handlers: {} })
  worker.on('completed', (job, result) => {
    if (job.type === 'analyse') same<typeof job.payload, { url: string }>(true)
    else same<typeof job.payload, { frames: number }>(true)
    same<typeof result, { words: number } | { seconds: number }>(true)
  })
  worker.on('failed', (job, error, next) => {
    same<typeof job.type, 'analyse' | 'render'>(true)
    same<typeof error, Error>(true)
    same<typeof next, Job>(true)
  })
  worker.on('retrying', (job) => {
    // @ts-expect-error the payload is one task's or the other's until the type is checked
    void job.payload.url
  })
  worker.on('error', (error, job) => {
    same<typeof error, unknown>(true)
    void job?.lease.token
  })
  // @ts-expect-error no such event
  worker.on('done', () => {})
  // @ts-expect-error a completed job's result is the task's result
  worker.on('completed', (_job, result: string) => void result)
}

export async function untypedEvents(url: string) {
  const docket = await Docket.open(url)
  const worker = new Worker(docket, { queues: ['docs'], handlers: () => null })
  worker.on('completed', (job, result) => {
    same<typeof job.payload, unknown>(true)
    same<typeof result, unknown>(true)
    const claimed: ClaimedJob = { ...job }
    return claimed
  })
  const onFailed: WorkerListener<'failed'> = (job, error) => void [job.id, error.message]
  worker.on('failed', onFailed)
}
