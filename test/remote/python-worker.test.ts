/**
 * The Python example worker (ten lines on docket_client, clients/python)
 * processes jobs from a real server over HTTP, on both drivers, and stops
 * gracefully on SIGTERM. Runs when python3 is on the PATH, and says so
 * loudly when it is not.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { Docket } from '../../src/index.js'
import { buildApp } from '../../src/server/app.js'
import { createKey } from '../../src/server/auth.js'
import { type Driver, freshTarget, until } from '../worker/harness.js'

const python = spawnSync('python3', ['--version']).status === 0
if (!python) console.log('# python3 is not installed: the Python example worker test is skipped')

for (const driver of ['sqlite', 'postgres'] as Driver[]) {
  describe(`python example worker [${driver}]`, { skip: !python && 'python3 is not installed' }, () => {
    it('registers, claims by long-poll, reports steps and progress, and completes jobs', async () => {
      const target = await freshTarget(driver)
      const docket = await Docket.open(target.url)
      const app = await buildApp({ docket })
      try {
        await app.listen({ host: '127.0.0.1', port: 0 })
        const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
        const { key } = await createKey(docket, 'py', 'worker')
        await docket.createQueue({ name: 'text' })
        const script = join(import.meta.dirname, '..', '..', 'examples', 'python-worker', 'worker.py')
        const child = spawn('python3', [script, 'text'], {
          stdio: ['ignore', 'pipe', 'inherit'],
          env: {
            ...process.env,
            DOCKET_URL: url,
            DOCKET_KEY: key,
            PYTHONPATH: join(import.meta.dirname, '..', '..', 'clients', 'python', 'src'),
          },
        })
        const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
        const good = await docket.add('text', 'wordcount', { text: 'one two three four' })
        const second = await docket.add('text', 'wordcount', { text: 'five six' })
        const unknown = await docket.add('text', 'translate', { text: 'x' })
        for (const id of [good.id, second.id, unknown.id]) {
          await until(
            async () => ['completed', 'failed'].includes((await docket.getJob(id)).status),
            20_000,
            `job ${id}`,
          )
        }
        child.kill('SIGTERM')
        assert.equal(await exited, 0)
        const done = await docket.getJob(good.id)
        assert.equal(done.status, 'completed')
        assert.deepEqual(done.result, { words: 4, worker: 'python' })
        assert.deepEqual(
          done.events.filter((e) => e.kind.startsWith('step.')).map((e) => `${e.kind}:${e.step}`),
          ['step.started:split', 'step.completed:split'],
        )
        assert.deepEqual(
          done.events.filter((e) => e.kind === 'progress').map((e) => e.percent),
          [100],
        )
        assert.deepEqual((await docket.getJob(second.id)).result, { words: 2, worker: 'python' })
        const failed = await docket.getJob(unknown.id)
        assert.equal(failed.status, 'failed')
        assert.equal(failed.lastError?.retryable, false)
        const worker = (await docket.listWorkers()).find((w) => w.id.startsWith('remote:'))
        assert.equal(worker?.status, 'stopped')
      } finally {
        await app.close()
        await docket.close()
        await target.cleanup()
      }
    })
  })
}
