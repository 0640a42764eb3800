/**
 * Compile-time tests of the task map (src/docket/tasks.ts), checked by
 * `npm run typecheck` (tsc over test/): every line marked @ts-expect-error
 * must be refused, every other line accepted. Nothing here runs; the
 * functions are never called. The package test (test/package/tarball.test.ts)
 * compiles the same kind of use against the published types.
 */
import { Docket, type Handler, Worker } from '../../src/index.js'

type Tasks = {
  analyse: { payload: { url: string }; result: { words: number } }
  render: { payload: { frames: number } }
  ping: { result: 'pong' }
}

/** `true` only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const same = <A, B>(_proof: Equal<A, B>) => {}

export async function typedProducer(url: string) {
  const docket = await Docket.open<Tasks>(url)

  const job = await docket.add('docs', 'analyse', { url: 'https://example.com/a.pdf' })
  same<typeof job.type, 'analyse'>(true)
  same<typeof job.payload, { url: string }>(true)
  same<typeof job.result, { words: number } | null>(true)
  await docket.add({ queue: 'docs', type: 'render', payload: { frames: 24 }, priority: 'high' })
  await docket.add('docs', 'ping')
  await docket.addMany([
    { queue: 'docs', type: 'analyse', payload: { url: 'u' } },
    { queue: 'docs', type: 'render', payload: { frames: 1 } },
  ])

  // @ts-expect-error a type the map does not name
  await docket.add('docs', 'unknown-type', {})
  // @ts-expect-error the payload's field has the wrong type
  await docket.add('docs', 'analyse', { url: 42 })
  // @ts-expect-error the payload is required when the map gives one
  await docket.add('docs', 'analyse')
  // @ts-expect-error the object form checks the payload too
  await docket.add({ queue: 'docs', type: 'render', payload: { frames: 'many' } })
  // @ts-expect-error and addMany checks each job
  await docket.addMany([{ queue: 'docs', type: 'analyse', payload: { frames: 1 } }])

  // getJob narrows the payload and the result by the job's type.
  const read = await docket.getJob(job.id)
  if (read.type === 'analyse') {
    same<typeof read.payload, { url: string }>(true)
    same<typeof read.result, { words: number } | null>(true)
  } else if (read.type === 'render') {
    same<typeof read.payload, { frames: number }>(true)
    same<typeof read.result, unknown>(true)
  }
  same<typeof read.artifacts, import('../../src/index.js').Artifact[]>(true)
}

export async function typedWorker(docket: Docket<Tasks>) {
  new Worker<Tasks>(docket, {
    queues: ['docs'],
    handlers: {
      async analyse(job) {
        same<typeof job.payload, { url: string }>(true)
        return { words: job.payload.url.length }
      },
      render: (job) => job.payload.frames,
      ping: () => 'pong' as const,
    },
  })
  new Worker<Tasks>(docket, {
    queues: ['docs'],
    handlers: {
      // @ts-expect-error the result must be what the map says
      analyse: async () => ({ words: 'many' }),
    },
  })
  new Worker<Tasks>(docket, {
    queues: ['docs'],
    handlers: {
      // @ts-expect-error a handler for a type the map does not name
      transcode: async () => null,
    },
  })
  new Worker<Tasks>(docket, {
    queues: ['docs'],
    handlers: {
      // @ts-expect-error the payload has no such field
      render: (job) => job.payload.url,
    },
  })
}

export async function untyped(url: string) {
  const docket = await Docket.open(url)
  const job = await docket.add('q', 'anything', { any: 'payload' })
  same<typeof job.payload, unknown>(true)
  same<typeof job.result, unknown>(true)
  await docket.add('q', 'no-payload')
  await docket.add({ queue: 'q', type: 't' })
  same<Awaited<ReturnType<typeof docket.getJob>>['payload'], unknown>(true)

  new Worker(docket, {
    queues: ['q'],
    handlers: {
      t: (job) => {
        same<typeof job.payload, unknown>(true)
        // @ts-expect-error unknown, not any: a payload is read only after checking it
        return job.payload.field
      },
    },
  })
  // A handler written for a narrower payload is still accepted without a task map.
  const narrow: Handler<{ text: string }, number> = (job) => job.payload.text.length
  new Worker(docket, { queues: ['q'], handlers: { narrow } })
  new Worker(docket, { queues: ['q'], handlers: async (job) => job.type })
}
