/**
 * What `npm start` runs inside the server: the document pipeline
 * (examples/document-pipeline), plus the four sample documents as jobs on
 * the first start, so there is something to watch straight away.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Docket } from '../src/index.js'

export { concurrency, handlers, queues } from './document-pipeline/pipeline.js'

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
