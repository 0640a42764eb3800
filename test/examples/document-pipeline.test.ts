/** The document pipeline processes every sample end to end: type, fields, progress steps, JSON and CSV outputs. */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { handlers, queues } from '../../examples/document-pipeline/pipeline.js'
import { Docket, Worker } from '../../src/index.js'
import { type Driver, freshTarget, until } from '../worker/harness.js'

process.env.DOCKET_PIPELINE_PACE_MS = '0'
const SAMPLES = join(import.meta.dirname, '..', '..', 'examples', 'document-pipeline', 'samples')

const EXPECTED = {
  'invoice.pdf': {
    type: 'invoice',
    total: 1500,
    dates: ['2026-11-02', '2026-12-02'],
    parties: ['Northwind Analytics Ltd', 'Contoso Robotics Inc'],
    identifiers: ['INV-2026-0042'],
  },
  'contract.pdf': {
    type: 'contract',
    total: 48000,
    dates: ['1 October 2026'],
    parties: ['Fabrikam Media GmbH', 'Tailspin Studios Ltd'],
    identifiers: ['CT-7781'],
  },
  'receipt.pdf': {
    type: 'receipt',
    total: 12.25,
    dates: ['11/20/2026'],
    parties: ['Corner Coffee Co'],
    identifiers: ['R-55120'],
  },
  'letter.txt': {
    type: 'letter',
    total: null,
    dates: ['3 November 2026', '15 December 2026'],
    parties: ['Adventure Works Ltd'],
    identifiers: [],
  },
} as const

for (const driver of ['sqlite', 'postgres'] as Driver[]) {
  describe(`document pipeline [${driver}]`, () => {
    it('classifies every sample and extracts its fields, step by step, with JSON and CSV results', async () => {
      const target = await freshTarget(driver)
      const docket = await Docket.open(target.url)
      await docket.createQueue(queues[0]!)
      const worker = await new Worker(docket, {
        queues: ['documents'],
        handlers,
        pollMs: 50,
        concurrency: 4,
      }).start()
      try {
        const added = new Map<string, string>()
        for (const name of Object.keys(EXPECTED)) {
          const mediaType = name.endsWith('.pdf') ? 'application/pdf' : 'text/plain'
          const data = await readFile(join(SAMPLES, name))
          const { job } = await docket.addWithFiles({ queue: 'documents', type: 'process' }, [
            { name, mediaType, data },
          ])
          added.set(name, job.id)
        }
        for (const [name, id] of added) {
          await until(
            async () => ['completed', 'failed'].includes((await docket.getJob(id)).status),
            20_000,
            name,
          )
          const job = await docket.getJob(id)
          assert.equal(job.status, 'completed', `${name}: ${job.lastError?.message}`)
          const expected = EXPECTED[name as keyof typeof EXPECTED]
          const result = job.result as {
            type: string
            fields: { total: number | null; dates: string[]; parties: string[]; identifiers: string[] }
          }
          assert.equal(result.type, expected.type, name)
          assert.equal(result.fields.total, expected.total, name)
          assert.deepEqual(result.fields.dates, expected.dates, name)
          assert.deepEqual(result.fields.parties, expected.parties, name)
          assert.deepEqual(result.fields.identifiers, expected.identifiers, name)
          assert.deepEqual(
            job.events.filter((e) => e.kind === 'progress').map((e) => e.percent),
            [10, 30, 50, 70, 90, 100],
          )
          assert.deepEqual(
            job.events.filter((e) => e.kind === 'step.completed').map((e) => e.step),
            ['extract', 'classify', 'fields', 'summary', 'store'],
          )
          const outputs = job.artifacts.filter((a) => a.direction === 'output')
          assert.deepEqual(outputs.map((a) => `${a.name} ${a.mediaType}`).sort(), [
            'fields.csv text/csv',
            'result.json application/json',
          ])
          const { stream } = await docket.openArtifact(outputs.find((a) => a.name === 'result.json')!.id)
          const chunks: Buffer[] = []
          for await (const c of stream) chunks.push(c as Buffer)
          assert.equal(JSON.parse(Buffer.concat(chunks).toString()).type, expected.type)
        }
        const empty = await docket.add('documents', 'process', null)
        await until(
          async () => (await docket.getJob(empty.id)).status === 'failed',
          10_000,
          'the job without a document',
        )
        assert.equal((await docket.getJob(empty.id)).attempts, 1)
      } finally {
        await worker.close()
        await docket.close()
        await target.cleanup()
      }
    })
  })
}
