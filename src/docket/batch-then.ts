/** A batch's `then` job: one job waiting for the completion of every job of the batch, whatever its outcome. */
import type { JobInput } from '../core/options.js'
import { type NewJob, type QueueRecord, resolveJob } from '../core/resolve.js'

/**
 * The `then` job of a batch whose jobs are `batch`: it depends on each of them
 * with `completion`, and is not itself one of the batch's jobs.
 */
export function thenJob(input: JobInput, queue: QueueRecord, id: string, batch: readonly NewJob[]): NewJob {
  const ids = batch.map((j) => j.id)
  return { ...resolveJob({ ...input, id }, queue, id, null), dependsOn: ids, onCompletion: ids }
}
