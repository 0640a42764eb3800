/**
 * What `npm start` runs inside the server: the document pipeline
 * (examples/document-pipeline) for `process` jobs, quick stand-ins for the
 * other job types that the README and docs/ add to the `documents` queue
 * (`analyse`, `page`, `summarise`, `wordcount`, `cleanup`), and the four sample
 * documents as jobs on the first start, so there is something to watch
 * straight away. A type the docs use and this worker did not handle would
 * fail at once with "no handler" (issue 33).
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Docket, Handler } from '../src/index.js'
import { handlers as pipeline } from './document-pipeline/pipeline.js'

export { concurrency, queues } from './document-pipeline/pipeline.js'

/** The words of a payload: its `text` when it has one, else every string in it (a URL, a name…). */
function wordsOf(payload: unknown): number {
  const text =
    payload !== null &&
    typeof payload === 'object' &&
    typeof (payload as { text?: unknown }).text === 'string'
      ? (payload as { text: string }).text
      : JSON.stringify(payload ?? '').replace(/[{}[\]":,]/g, ' ')
  return text.split(/\s+/).filter(Boolean).length
}

/** Counts a payload's words in one named step, with progress: what `analyse`, `page` and `wordcount` do here. */
const countWords =
  (verb: string): Handler =>
  async (job, ctx) => {
    await ctx.progress(10, `${verb}…`)
    const words = await ctx.step('count', async () => wordsOf(job.payload))
    await ctx.progress(100, `${words} words`)
    return { words }
  }

export const handlers: Record<string, Handler> = {
  ...(pipeline as Record<string, Handler>),
  analyse: countWords('analysing'),
  page: countWords('reading the page'),
  wordcount: countWords('counting'),
  /** docs/jobs.md's job that runs once a render is final: the demo keeps no files of its own to remove. */
  async cleanup(_job, ctx) {
    await ctx.step('clean', async () => null)
    await ctx.progress(100, 'nothing left behind')
    return { cleaned: true }
  },
  /** A batch's `then` job (docs/jobs.md): adds up what the jobs it waited for counted. */
  async summarise(_job, ctx) {
    const upstream = await ctx.upstream<{ words?: number } | null>()
    const done = upstream.filter((u) => u.status === 'completed')
    const words = await ctx.step('sum', async () =>
      done.reduce((n, u) => n + (typeof u.result?.words === 'number' ? u.result.words : 0), 0),
    )
    await ctx.progress(100, `${done.length} of ${upstream.length} completed`)
    return { words, completed: done.length, failed: upstream.length - done.length }
  },
}

const SAMPLES: [string, string][] = [
  ['invoice.pdf', 'application/pdf'],
  ['contract.pdf', 'application/pdf'],
  ['receipt.pdf', 'application/pdf'],
  ['letter.txt', 'text/plain'],
]

/** Adds the samples once: their dedupe keys make a restart add nothing while they are live. */
export async function seed(docket: Docket): Promise<void> {
  if ((await docket.listJobs({ queue: 'documents', limit: 1 })).jobs.length > 0) return
  for (const [name, mediaType] of SAMPLES) {
    const data = await readFile(join(import.meta.dirname, 'document-pipeline', 'samples', name))
    await docket.addWithFiles({ queue: 'documents', type: 'process', dedupeKey: `sample:${name}` }, [
      { name, mediaType, data },
    ])
  }
}
