/**
 * A process SIGKILLed in the middle of writing loses no job it was told was
 * accepted. Writer processes (fixtures/writer.ts) add jobs flat out and print
 * each id once add() resolved; they are killed at random moments, several
 * times over, and every printed id must then be in the database, whole. On
 * SQLite the file must also pass its own integrity check.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, fork } from 'node:child_process'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { Docket } from '../../src/index.js'
import { DRIVERS, figure, freshTarget, openSql, pick, type Sql, sleep, type Target } from './support.js'

const ROUNDS = pick(4, 20)
const WRITERS = 2
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Starts a writer; resolves once it writes, with the ids it acknowledged so far (complete lines only). */
async function startWriter(url: string, name: string) {
  const child: ChildProcess = fork(join(import.meta.dirname, 'fixtures', 'writer.ts'), [url, name], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  })
  let text = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8')
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve())
    void exited.then(() => reject(new Error(`writer ${name} exited before it was ready`)))
  })
  return {
    child,
    async kill(): Promise<string[]> {
      child.kill('SIGKILL')
      await exited
      // The last line may have been cut by the kill: only whole lines count as acknowledged.
      return text
        .split('\n')
        .slice(0, -1)
        .filter((l) => UUID.test(l))
    },
  }
}

for (const driver of DRIVERS) {
  describe(`reliability: a writer killed mid-write [${driver}]`, () => {
    let target: Target | undefined
    let sql: Sql | undefined
    const children: ChildProcess[] = []
    after(async () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
      await sql?.close()
      await target?.cleanup()
    })

    it(`loses no acknowledged job across ${ROUNDS} rounds of ${WRITERS} writers SIGKILLed at random`, async () => {
      target = await freshTarget(driver)
      const setup = await Docket.open(target.url)
      await setup.createQueue({ name: 'writes' })
      await setup.close()

      const acknowledged: string[] = []
      for (let round = 0; round < ROUNDS; round++) {
        const writers = await Promise.all(
          Array.from({ length: WRITERS }, (_, i) => startWriter(target!.url, `r${round}w${i}`)),
        )
        children.push(...writers.map((w) => w.child))
        await sleep(150 + Math.random() * 600)
        for (const w of writers) acknowledged.push(...(await w.kill()))
      }

      const docket = await Docket.open(target.url)
      sql = await openSql(target.url)
      let missing = 0
      let damaged = 0
      for (const id of acknowledged) {
        const job = await docket.getJob(id).catch(() => null)
        if (!job) missing++
        else if (job.queue !== 'writes' || typeof (job.payload as { seq?: unknown }).seq !== 'number')
          damaged++
      }
      const stored = Number((await sql.all<{ n: number }>(`SELECT count(*) AS n FROM jobs`))[0]!.n)
      const integrity =
        driver === 'sqlite'
          ? String(Object.values((await sql.all('PRAGMA integrity_check'))[0] ?? {})[0])
          : 'n/a'
      await docket.close()

      figure('killed-writer', {
        driver,
        kills: ROUNDS * WRITERS,
        acknowledged: acknowledged.length,
        stored,
        missing,
        damaged,
        integrity,
      })
      assert.ok(acknowledged.length >= ROUNDS * WRITERS, `only ${acknowledged.length} jobs were acknowledged`)
      assert.equal(new Set(acknowledged).size, acknowledged.length)
      assert.equal(missing, 0, 'acknowledged jobs missing after the kill')
      assert.equal(damaged, 0)
      // At most the writes in flight at each kill (up to 5 per writer) were stored but never acknowledged.
      assert.ok(stored >= acknowledged.length && stored <= acknowledged.length + ROUNDS * WRITERS * 5)
      if (driver === 'sqlite') assert.equal(integrity, 'ok')
    })
  })
}
