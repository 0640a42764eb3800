/**
 * The document pipeline across languages, on both drivers: pages.ts splits a
 * sample into pages, the Python page worker (page_worker.py on docket_client,
 * over HTTP) analyses each, and the TypeScript pipeline's merge-pages job
 * combines what it returned. Runs when python3 is on the PATH.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { addPageJobs, splitPages } from '../../examples/document-pipeline/pages.js'
import { handlers, queues } from '../../examples/document-pipeline/pipeline.js'
import { Docket, Worker } from '../../src/index.js'
import { buildApp } from '../../src/server/app.js'
import { createKey } from '../../src/server/auth.js'
import { type Driver, freshTarget, until } from '../worker/harness.js'

const root = join(import.meta.dirname, '..', '..')
const python = spawnSync('python3', ['--version']).status === 0
if (!python) console.log('# python3 is not installed: the Python page worker test is skipped')

for (const driver of ['sqlite', 'postgres'] as Driver[]) {
  describe(`document pipeline with the Python page worker [${driver}]`, {
    skip: !python && 'python3 is not installed',
  }, () => {
    it('splits a document into page jobs for Python, and merges their results in TypeScript', async () => {
      const target = await freshTarget(driver)
      const docket = await Docket.open(target.url)
      const app = await buildApp({ docket })
      await docket.createQueue(queues[0]!)
      const worker = await new Worker(docket, { queues: ['documents'], handlers, pollMs: 50 }).start()
      let child: ReturnType<typeof spawn> | null = null
      try {
        await app.listen({ host: '127.0.0.1', port: 0 })
        const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
        const { key } = await createKey(docket, 'python-pages', 'worker')
        const file = join(root, 'examples', 'document-pipeline', 'samples', 'letter.txt')
        const pages = await splitPages(await readFile(file), file)
        assert.ok(pages.length > 1)
        const merge = await addPageJobs(docket, 'letter.txt', pages)
        child = spawn('python3', [join(root, 'examples', 'document-pipeline', 'page_worker.py')], {
          stdio: ['ignore', 'inherit', 'inherit'],
          env: {
            ...process.env,
            DOCKET_URL: url,
            DOCKET_KEY: key,
            PYTHONPATH: join(root, 'clients', 'python', 'src'),
          },
        })
        await until(async () => (await docket.getJob(merge.id)).status === 'completed', 20_000, 'the merge')
        const done = await docket.getJob(merge.id)
        const result = done.result as {
          pages: number
          words: number
          keywords: string[]
          analysedBy: string[]
        }
        assert.equal(result.pages, pages.length)
        assert.deepEqual(result.analysedBy, ['python'])
        assert.ok(result.words > 20)
        assert.ok(result.keywords.includes('adventure'))
        const page = (await docket.listJobs({ queue: 'pages' })).jobs[0]!
        const detail = await docket.getJob(page.id)
        assert.deepEqual(
          detail.events.filter((e) => e.kind === 'step.completed').map((e) => e.step),
          ['words', 'keywords'],
        )
      } finally {
        if (child) {
          const exited = new Promise((r) => child!.once('exit', r))
          child.kill('SIGTERM')
          await exited
        }
        await worker.close()
        await app.close()
        await docket.close()
        await target.cleanup()
      }
    })
  })
}
