/**
 * The document pipeline across two languages: this splits a document into
 * pages (a PDF's pages, a text file's paragraphs) and adds, as one batch, a
 * `page` job per page to the `pages` queue, which the Python page worker
 * serves (page_worker.py, on docket_client), and a `merge-pages` job on
 * `documents` once they are all done, which the TypeScript pipeline serves
 * (pipeline.ts, as `npm start` runs it). Then it waits for the merge and
 * prints its result.
 *
 *   npx tsx examples/document-pipeline/pages.ts examples/document-pipeline/samples/contract.pdf
 *
 * It opens the database `npm start` uses (DOCKET_DATABASE_URL, else
 * ./data/docket.db); see this folder's README.
 */
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { extractText, getDocumentProxy } from 'unpdf'
import { Docket, type Job } from '../../src/index.js'

/** The pages of a document: a PDF's, or a text file's paragraphs. */
export async function splitPages(data: Buffer, name: string): Promise<string[]> {
  if (name.toLowerCase().endsWith('.pdf')) {
    const { text } = await extractText(await getDocumentProxy(new Uint8Array(data)), { mergePages: false })
    return text.filter((t) => t.trim() !== '')
  }
  return data
    .toString('utf8')
    .split(/\n\s*\n/)
    .filter((t) => t.trim() !== '')
}

/** Adds the page jobs and the merge after them; returns the merge job. */
export async function addPageJobs(docket: Docket, document: string, pages: string[]): Promise<Job> {
  await docket.getQueue('pages').catch(() => docket.createQueue({ name: 'pages' }))
  const { thenJob } = await docket.addBatch(
    pages.map((text, i) => ({ queue: 'pages', type: 'page', payload: { document, page: i + 1, text } })),
    {
      name: `pages of ${document}`,
      // biome-ignore lint/suspicious/noThenProperty: the batch option's name (docs/jobs.md); never awaited
      then: { queue: 'documents', type: 'merge-pages', payload: { document } },
    },
  )
  return thenJob!
}

async function main(file: string): Promise<void> {
  const docket = await Docket.open(process.env.DOCKET_DATABASE_URL ?? './data/docket.db')
  try {
    const pages = await splitPages(await readFile(file), file)
    const merge = await addPageJobs(docket, basename(file), pages)
    console.log(`${pages.length} page jobs for the Python worker, then merge-pages ${merge.id}`)
    for (;;) {
      const job = await docket.getJob(merge.id)
      if (['completed', 'failed', 'cancelled'].includes(job.status)) {
        console.log(job.status, JSON.stringify(job.result ?? job.lastError, null, 2))
        return
      }
      await new Promise((r) => setTimeout(r, 200))
    }
  } finally {
    await docket.close()
  }
}

if (process.argv[1] && import.meta.url.endsWith(basename(process.argv[1]))) {
  if (!process.argv[2])
    throw new Error('usage: npx tsx examples/document-pipeline/pages.ts <file.pdf|file.txt>')
  await main(process.argv[2])
}
