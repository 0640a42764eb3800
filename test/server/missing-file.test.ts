/**
 * An artifact whose file is gone from this server's disk (deleted by an
 * operator, or stored by a process elsewhere) must not take the server down.
 * Review finding: the download opened the file before the access check, and a
 * refused caller's destroyed stream then raised ENOENT with nobody listening:
 * an uncaught exception, the process gone.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { Docket } from '../../src/index.js'
import { buildApp } from '../../src/server/app.js'
import { createKey } from '../../src/server/auth.js'
import { DRIVERS, sleep } from '../reliability/support.js'
import { freshTarget, type Target } from '../worker/harness.js'

for (const driver of DRIVERS) {
  describe(`an artifact whose file is gone [${driver}]`, () => {
    let target: Target | undefined
    let docket: Docket | undefined
    after(async () => {
      await docket?.close()
      await target?.cleanup()
    })

    it('answers every caller and keeps serving', async () => {
      target = await freshTarget(driver)
      docket = await Docket.open(target.url)
      await docket.createQueue({ name: 'files' })
      const { artifacts } = await docket.addWithFiles({ queue: 'files', type: 't', owner: 'alice' }, [
        { name: 'a.txt', mediaType: 'text/plain', data: Buffer.from('hello') },
      ])
      const artifact = artifacts[0]!
      await docket.artifacts.remove(artifact.storageKey) // the bytes are gone, the record stays
      const app = await buildApp({ docket })
      await app.listen({ host: '127.0.0.1', port: 0 })
      try {
        const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
        const worker = (await createKey(docket, 'w', 'worker')).key
        const alice = (await createKey(docket, 'alice', 'user')).key
        const get = (key: string) =>
          fetch(`${base}/api/v1/artifacts/${artifact.id}`, { headers: { authorization: `Bearer ${key}` } })
        assert.equal((await get(worker)).status, 404, 'a worker without the lease: as for a missing file')
        const owner = await get(alice)
        assert.ok(owner.status >= 400, `the owner is told it cannot be had (${owner.status})`)
        await owner.arrayBuffer().catch(() => {})
        await sleep(200) // where the unhandled stream error used to end the process
        assert.equal((await fetch(`${base}/health`)).status, 200, 'the server is still up')
      } finally {
        await app.close()
      }
    })
  })
}
