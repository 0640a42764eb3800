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

export const handlers: Record<string, Handler<{ text?: string } | null>> = {
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
