/**
 * The live feed under clients that do not read (issue 33, item 15): 200
 * replays of the whole event log (`/events?after=0`) that never read a byte
 * once cost gigabytes and froze the server. Now each feed writes while its
 * connection takes the data, then stops reading the log for that client; so
 * with 200 such feeds open the server still answers /health within 100 ms,
 * its heap stays bounded, and once the clients go every feed is closed and
 * the memory is given back. A feed that reads nothing for `stallMs` is
 * dropped. Real sockets on 127.0.0.1, on both drivers.
 */
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { storeOf } from '../../src/docket/store-of.js'
import { startServer, type TestServer } from './server.js'
import { DRIVERS, figure, openSql, sleep, until } from './support.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const EVENTS = 3_000
/** Characters of data per event: large, so a stalled connection's buffer holds few of them. */
const PAD = 30_000
const FEEDS = 200
const MiB = 1024 * 1024

/** The heap after a full collection, in bytes. */
async function settledHeap(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc()
    await sleep(50)
  }
  return process.memoryUsage().heapUsed
}

/** A feed request over a raw socket whose client never reads (the socket is paused at once). */
async function stalledFeed(base: string, key: string, query = 'after=0'): Promise<Socket> {
  const url = new URL(base)
  const socket = connect(Number(url.port), url.hostname)
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  socket.on('error', () => {})
  socket.write(
    `GET /api/v1/events?${query} HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${key}\r\n\r\n`,
  )
  socket.pause()
  return socket
}

/** /health's answer time, in ms, `n` times over fresh connections. */
async function healthTimes(base: string, n: number): Promise<number[]> {
  const times: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    const r = await fetch(`${base}/health`, { headers: { connection: 'close' } })
    await r.text()
    assert.equal(r.status, 200)
    times.push(performance.now() - t0)
  }
  return times
}

/** Fills the event log with `n` log events of PAD characters of data each, straight in SQL. */
async function fillLog(url: string, driver: string, n: number): Promise<void> {
  const sql = await openSql(url)
  try {
    if (driver === 'postgres')
      await sql.all(
        `INSERT INTO events (queue, kind, message, data)
         SELECT 'load', 'log', 'line ' || i, jsonb_build_object('pad', repeat('x', ${PAD}))
         FROM generate_series(1, ${n}) AS i`,
      )
    else
      await sql.all(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${n})
         INSERT INTO events (queue, kind, message, data, at)
         SELECT 'load', 'log', 'line ' || i, json_object('pad', printf('%.${PAD}c', 'x')), 0 FROM n`,
      )
  } finally {
    await sql.close()
  }
}

for (const driver of DRIVERS) {
  describe(`reliability: live feeds whose clients read nothing [${driver}]`, () => {
    let s: TestServer
    before(async () => {
      s = await startServer(driver, { feeds: { perKey: FEEDS + 10, total: FEEDS + 10, stallMs: 60_000 } })
      await fillLog(s.url, driver, EVENTS)
    })
    after(async () => {
      await s?.close()
    })

    it(`keeps ${FEEDS} replays that read nothing bounded, answers /health within 100 ms, and frees it all once they go`, async () => {
      const baseline = await settledHeap()
      const store = storeOf(s.docket)
      const read = store.readEvents
      let reads = 0
      store.readEvents = (...args) => {
        reads++
        return read.apply(store, args)
      }
      const sockets: Socket[] = []
      try {
        for (let i = 0; i < FEEDS; i++) sockets.push(await stalledFeed(s.base, s.keys.admin))
        await until(() => s.app.openFeeds() === FEEDS, 10_000, `${FEEDS} feeds open`)
        // Let every feed write until its connection is full and stop there.
        let last = -1
        await until(
          async () => {
            const now = reads
            const still = now === last
            last = now
            await sleep(300)
            return still
          },
          30_000,
          'the feeds to stop reading the log',
        )
        const held = (await settledHeap()) - baseline
        const times = await healthTimes(s.base, 10)
        const sorted = [...times].sort((a, b) => a - b)
        figure('feed-stalled', {
          driver,
          feeds: FEEDS,
          events: EVENTS,
          heldMiB: held / MiB,
          healthMedianMs: sorted[5]!,
          healthMaxMs: sorted[9]!,
          reads,
        })
        assert.ok(held < 150 * MiB, `${FEEDS} stalled feeds hold ${Math.round(held / MiB)} MiB`)
        assert.ok(sorted[5]! < 100, `/health took ${sorted.map(Math.round).join(', ')} ms`)
        assert.ok(sorted[9]! < 500, `/health took ${sorted.map(Math.round).join(', ')} ms`)
        // Nothing more is read for a client that reads nothing.
        const stalled = reads
        await sleep(500)
        assert.ok(
          reads - stalled <= FEEDS / 20,
          `${reads - stalled} reads of the log while every feed stalled`,
        )
      } finally {
        for (const socket of sockets) socket.destroy()
      }
      await until(() => s.app.openFeeds() === 0, 10_000, 'every feed closed once its client went')
      const reads0 = reads
      await sleep(500)
      store.readEvents = read
      assert.equal(reads, reads0, 'a closed feed went on reading the log')
      const left = (await settledHeap()) - baseline
      figure('feed-stalled-after', { driver, leftMiB: left / MiB })
      assert.ok(left < 30 * MiB, `${Math.round(left / MiB)} MiB still held after the clients went`)
      const times = await healthTimes(s.base, 5)
      assert.ok(Math.min(...times) < 100, `/health took ${times.map(Math.round).join(', ')} ms after`)
    })

    it('drops a feed whose client reads nothing for stallMs; what it got ends before the log does', async () => {
      const spare = await s.spare({ feeds: { stallMs: 300 } })
      const socket = await stalledFeed(spare.base, s.keys.admin)
      try {
        // Longer than stallMs without reading a byte: the server gives up on it.
        await sleep(1_500)
        let text = ''
        const ended = new Promise<boolean>((resolve) => {
          socket.once('end', () => resolve(true)).once('close', () => resolve(true))
          setTimeout(() => resolve(false), 10_000)
        })
        socket.setEncoding('utf8')
        socket.on('data', (chunk: string) => {
          text += chunk
        })
        socket.resume()
        assert.equal(await ended, true, 'the stalled feed was never dropped')
        const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))
        assert.ok(ids.length > 0, 'the feed sent nothing before it stalled')
        assert.ok(!text.includes(`line ${EVENTS}"`), 'the dropped feed went on to the end of the log')
        figure('feed-dropped', { driver, sentBeforeDrop: ids.length })
      } finally {
        socket.destroy()
        await spare.close()
      }
    })
  })
}
