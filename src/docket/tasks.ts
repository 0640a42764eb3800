/**
 * A task map ties each job type's name to its payload and result, so that
 * `Docket<Tasks>` and `Worker<Tasks>` check them at compile time:
 *
 *   type Tasks = { analyse: { payload: { url: string }; result: { words: number } } }
 *   const docket = await Docket.open<Tasks>(url)
 *   await docket.add('docs', 'analyse', { url })          // payload checked
 *   new Worker<Tasks>(docket, { queues: ['docs'], handlers: {
 *     analyse: async (job) => ({ words: count(job.payload.url) }),   // result checked
 *   } })
 *
 * Types only: nothing here exists at run time, and the server still checks
 * every payload it is sent. Without a map (`AnyTasks`) any type name is
 * accepted and payloads and results are `unknown`.
 */
import type { JobInput } from '../core/options.js'
import type { Job, JobDetail } from '../core/types.js'
import type { JobOptions } from './types.js'

/** What a task map says of one job type; either part may be left out (then `unknown`). */
export interface TaskSpec {
  payload?: unknown
  result?: unknown
}

/** Job type names to what each takes and returns. */
export type TaskMap = { [type: string]: TaskSpec }

/** No task map: every type name, with `unknown` payloads and results. */
export type AnyTasks = { [type: string]: { payload: unknown; result: unknown } }

/** The job type names of a task map. */
export type TaskName<T extends TaskMap> = Extract<keyof T, string>

export type PayloadOf<T extends TaskMap, K extends string> = K extends keyof T
  ? T[K] extends { payload: infer P }
    ? P
    : unknown
  : unknown

export type ResultOf<T extends TaskMap, K extends string> = K extends keyof T
  ? T[K] extends { result: infer R }
    ? R
    : unknown
  : unknown

/** A job of type `K` (by default any type of the map); checking `job.type` narrows payload and result. */
export type TaskJob<T extends TaskMap, K extends TaskName<T> = TaskName<T>> = {
  [N in K]: Omit<Job<PayloadOf<T, N>, ResultOf<T, N>>, 'type'> & { type: N }
}[K]

/** A job's detail (history, dependencies, files) narrowed the same way. */
export type TaskJobDetail<T extends TaskMap, D, K extends TaskName<T> = TaskName<T>> = {
  [N in K]: Omit<JobDetail<PayloadOf<T, N>, ResultOf<T, N>>, 'type'> & { type: N } & D
}[K]

/** The payload as an argument: optional where the map allows `undefined` (and without a map). */
type PayloadField<P> = undefined extends P ? { payload?: P } : { payload: P }

/** `add({ queue, type, payload, ...options })` for a job of type `K`. */
export type TaskInput<T extends TaskMap, K extends TaskName<T> = TaskName<T>> = {
  [N in K]: Omit<JobInput, 'type' | 'payload'> & { type: N } & PayloadField<PayloadOf<T, N>>
}[K]

/** `add(queue, type, payload, options)`: the arguments after the type. */
export type TaskArguments<T extends TaskMap, K extends TaskName<T>> =
  undefined extends PayloadOf<T, K>
    ? [payload?: PayloadOf<T, K>, options?: JobOptions]
    : [payload: PayloadOf<T, K>, options?: JobOptions]
