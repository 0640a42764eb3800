/**
 * Compile-time tests of sandboxed handlers with a task map, checked by
 * `npm run typecheck`: a sandboxed handler takes its payload and result
 * types from the worker's map where it is used. Nothing here runs.
 */
import { Docket, type Handler, sandboxed, Worker } from '../../src/index.js'

type Tasks = {
  analyse: { payload: { url: string }; result: { words: number } }
}

export async function typedSandboxes(url: string) {
  const docket = await Docket.open<Tasks>(url)
  new Worker<Tasks>(docket, {
    queues: ['docs'],
    handlers: { analyse: sandboxed(new URL('./analyse.js', import.meta.url), { isolation: 'process' }) },
  })
  // Named explicitly, it must agree with the map.
  new Worker<Tasks>(docket, {
    queues: ['docs'],
    handlers: { analyse: sandboxed<{ url: string }, { words: number }>('./analyse.js') },
  })
  new Worker<Tasks>(docket, {
    queues: ['docs'],
    // @ts-expect-error a result type the map does not give
    handlers: { analyse: sandboxed<{ url: string }, { pages: number }>('./analyse.js') },
  })
  // @ts-expect-error isolation is 'thread' or 'process'
  sandboxed('./x.js', { isolation: 'vm' })
  const untyped: Handler = sandboxed('./x.js')
  return untyped
}
