/**
 * The document-processing job from the seeds, as a Docket worker module.
 * Upload a PDF or text file with a `process` job on the `documents` queue;
 * the job extracts the text, classifies the document, extracts fields and
 * writes a summary, reporting progress 10 → 30 → 50 → 70 → 90 → 100 in named
 * steps, and stores its results as JSON and CSV output files.
 *
 *   docket serve --worker examples/document-pipeline/pipeline.ts
 *   docket worker --module examples/document-pipeline/pipeline.ts
 */
import type { Handler } from '../../src/index.js'
import { UnrecoverableError } from '../../src/index.js'
import { classify, extractFields, summarise, textOf, toCsv } from './analyse.js'

export const queues = [{ name: 'documents', concurrency: 4, maxAttempts: 3 }]
export const concurrency = 2

/** How long each step lingers, so people can watch the progress bar move (0 in tests). */
const pace = Number(process.env.DOCKET_PIPELINE_PACE_MS ?? 400)
const linger = (signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (pace <= 0) return resolve()
    const t = setTimeout(resolve, pace)
    signal.addEventListener('abort', () => {
      clearTimeout(t)
      reject(signal.reason)
    })
  })

/** What the Python page worker (page_worker.py) answers for one page. */
interface PageResult {
  page: number
  words: number
  keywords: string[]
  amounts: string[]
  by: string
}

export const handlers: Record<string, Handler<{ text?: string; document?: string } | null>> = {
  /** After the `page` jobs of pages.ts, which the Python worker ran: one summary of every page. */
  async 'merge-pages'(job, ctx) {
    const pages = (await ctx.upstream<PageResult>())
      .flatMap((u) => (u.status === 'completed' && u.result ? [u.result] : []))
      .sort((a, b) => a.page - b.page)
    if (pages.length === 0) throw new UnrecoverableError('no page was analysed')
    const counts = new Map<string, number>()
    for (const p of pages) for (const k of p.keywords) counts.set(k, (counts.get(k) ?? 0) + 1)
    const keywords = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k]) => k)
    await ctx.progress(100, `${pages.length} pages merged`)
    return {
      document: job.payload?.document ?? null,
      pages: pages.length,
      words: pages.reduce((sum, p) => sum + p.words, 0),
      keywords: keywords.slice(0, 8),
      amounts: pages.flatMap((p) => p.amounts),
      analysedBy: [...new Set(pages.map((p) => p.by))],
    }
  },

  async process(job, ctx) {
    await ctx.progress(10, 'reading the upload')
    const input = (await ctx.artifacts()).find((a) => a.direction === 'input')
    if (!input && typeof job.payload?.text !== 'string') {
      throw new UnrecoverableError('attach a PDF or text file, or give { "text": "…" } as the payload')
    }
    const text = await ctx.step('extract', async () => {
      await linger(ctx.signal)
      return input ? textOf(await ctx.readArtifact(input), input.mediaType) : String(job.payload?.text)
    })
    if (text.trim() === '')
      throw new UnrecoverableError('the document has no text layer (scanned images need OCR)')
    await ctx.progress(30, `extracted ${text.length} characters`)

    const { type, confidence } = await ctx.step('classify', async () => {
      await linger(ctx.signal)
      return classify(text)
    })
    await ctx.progress(50, `looks like a ${type} (${Math.round(confidence * 100)}%)`)

    const fields = await ctx.step('fields', async () => {
      await linger(ctx.signal)
      return extractFields(text)
    })
    await ctx.progress(
      70,
      `${fields.dates.length} dates, ${fields.amounts.length} amounts, ${fields.parties.length} parties`,
    )

    const summary = await ctx.step('summary', async () => {
      await linger(ctx.signal)
      return summarise(text, type, fields)
    })
    await ctx.progress(90, 'summary written')

    const result = {
      document: input?.name ?? null,
      type,
      confidence,
      fields,
      summary,
      characters: text.length,
    }
    await ctx.step('store', async () => {
      await ctx.saveOutput({
        name: 'result.json',
        mediaType: 'application/json',
        data: JSON.stringify(result, null, 2),
      })
      await ctx.saveOutput({
        name: 'fields.csv',
        mediaType: 'text/csv',
        data: toCsv([
          ['type', type],
          ['confidence', String(confidence)],
          ['total', fields.total === null ? '' : String(fields.total)],
          ...fields.dates.map((d) => ['date', d] as [string, string]),
          ...fields.parties.map((p) => ['party', p] as [string, string]),
          ...fields.identifiers.map((i) => ['identifier', i] as [string, string]),
        ]),
      })
    })
    await ctx.progress(100, `${type}: done`)
    return result
  },
}
