/**
 * The live feed's limits and edges: how many feeds a key and a server keep
 * open (429 TOO_MANY_FEEDS past either), where a feed without `after` starts
 * (with what was committed after it opened: on PostgreSQL too, while an older
 * transaction holds the log's horizon back), and a job's replay, which reads
 * that job's events only (by the index on them), not the whole log.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import WebSocket from 'ws'
import { storeOf } from '../../src/docket/store-of.js'
import { openSql } from '../support/sql.js'
import { type Driver, type Json, useServer } from './harness.js'
import { SseStream } from './sse.js'

export function feedEdgesSuite(driver: Driver): void {
  describe(`server: live feed limits and edges [${driver}]`, () => {
    const s = useServer(driver, { feeds: { perKey: 2, total: 3 } })

    it('keeps at most perKey feeds per key and total per server open: 429 TOO_MANY_FEEDS, until one closes', async () => {
      const url = `${s.base}/api/v1/events`
      const open: SseStream[] = []
      try {
        for (let i = 0; i < 2; i++) {
          const feed = await SseStream.open(url, s.keys.alice)
          assert.equal(feed.response.status, 200)
          open.push(feed)
        }
        const refused = async (key: string, scope: string) => {
          const r = await fetch(url, { headers: { authorization: `Bearer ${key}`, connection: 'close' } })
          assert.equal(r.status, 429)
          const body = (await r.json()) as Json
          assert.equal(body.error.code, 'TOO_MANY_FEEDS')
          assert.equal(body.error.details.scope, scope)
          return body.error
        }
        const perKey = await refused(s.keys.alice, 'key')
        assert.equal(perKey.details.limit, 2)
        // Another key still may, up to the server's total.
        const bob = await SseStream.open(url, s.keys.bob)
        assert.equal(bob.response.status, 200)
        open.push(bob)
        assert.equal(s.app.openFeeds(), 3)
        await refused(s.keys.admin, 'server')
        // A WebSocket counts the same, and is refused before its upgrade.
        const refusedUpgrade = await new Promise<number>((resolve) => {
          const socket = new WebSocket(url.replace(/^http/, 'ws'), {
            headers: { authorization: `Bearer ${s.keys.admin}` },
          })
          socket.on('unexpected-response', (req, res) => {
            resolve(res.statusCode ?? 0)
            req.destroy()
          })
          socket.on('open', () => {
            socket.close()
            resolve(101)
          })
          socket.on('error', () => {})
        })
        assert.equal(refusedUpgrade, 429)
        // Closing one gives its slot back.
        await open.shift()!.close()
        for (let i = 0; i < 50 && s.app.openFeeds() > 2; i++) await new Promise((r) => setTimeout(r, 20))
        assert.equal(s.app.openFeeds(), 2)
        const again = await SseStream.open(url, s.keys.alice)
        assert.equal(again.response.status, 200)
        open.push(again)
      } finally {
        for (const feed of open) await feed.close()
      }
      for (let i = 0; i < 50 && s.app.openFeeds() > 0; i++) await new Promise((r) => setTimeout(r, 20))
      assert.equal(s.app.openFeeds(), 0, 'every slot is given back')
    })

    it('starts a feed without after with what is committed after it opened, an older transaction open or not', async () => {
      await s.docket.createQueue({ name: 'edge-start' })
      // Another transaction, begun (and given a transaction id) before the add: on PostgreSQL it holds
      // back the log's horizon, which once made the feed replay the add committed before it opened.
      const sql = await openSql(s.url)
      try {
        await sql.all('BEGIN')
        if (driver === 'postgres') await sql.all('SELECT pg_current_xact_id()')
        else await sql.all('SELECT count(*) FROM jobs')
        const before = await s.docket.add('edge-start', 'before')
        const feed = await SseStream.open(`${s.base}/api/v1/events?queue=edge-start`, s.keys.admin)
        try {
          await feed.comment('connected')
          // The feed is subscribed once the server has read where the log ends: give it a moment.
          await new Promise((r) => setTimeout(r, 150))
          const afterOpen = await s.docket.add('edge-start', 'after')
          await sql.all('COMMIT')
          await feed.until((m) => m.some((e) => e.data.jobId === afterOpen.id), 5_000, 'the later add')
          await new Promise((r) => setTimeout(r, 300))
          assert.deepEqual(
            feed.messages.map((m) => m.data.jobId),
            [afterOpen.id],
            `the feed replayed the add committed before it opened (${before.id})`,
          )
        } finally {
          await feed.close()
        }
      } finally {
        await sql.close()
      }
    })

    it('replays one job (after=0&jobId=) from that job’s events only, not by reading the whole log', async () => {
      await s.docket.createQueue({ name: 'edge-replay' })
      const job = await s.docket.add('edge-replay', 'mine')
      // A log full of other jobs' events, before and after the job's own.
      for (let i = 0; i < 3; i++)
        await s.docket.addMany(Array.from({ length: 200 }, () => ({ queue: 'edge-replay', type: 'other' })))
      await s.docket.cancelJob(job.id)
      const store = storeOf(s.docket)
      const read = store.readEvents
      let rows = 0
      store.readEvents = async (...args) => {
        const page = await read.apply(store, args)
        rows += page.events.length
        return page
      }
      try {
        const feed = await SseStream.open(`${s.base}/api/v1/events?after=0&jobId=${job.id}`, s.keys.admin)
        try {
          await feed.until((m) => m.some((e) => e.event === 'job.cancelled'), 5_000, 'the job’s cancel')
          assert.deepEqual(feed.kinds(), ['job.added', 'job.cancelled'])
        } finally {
          await feed.close()
        }
      } finally {
        store.readEvents = read
      }
      assert.ok(rows <= 10, `the replay read ${rows} events of the log for a job that has 2`)
    })
  })
}
