/**
 * listJobs({ id, search, where, count }) through the library: the same
 * matches on every driver, typed payload conditions, the other filters and
 * keyset cursors alongside, owner scoping, and bad filters refused before any
 * query. Also jobFilterSuggestions. The database is shared, so every test
 * confines itself to a queue of its own (or text nobody else uses).
 */
// Store parts (storage/store.ts): JobStore (listJobs, countMatchingJobs, recentQueueTypes).
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import type { DocketError, Job } from '../../src/index.js'
import { type ConformanceContext, claimOne, expectError, makeQueue, test, uniqueName } from './harness.js'

const idsOf = (jobs: Job[]) => jobs.map((j) => j.id).sort()

export function searchSuite(ctx: ConformanceContext): void {
  describe('search', () => {
    test('id finds a job by its full id, a 6+ character prefix, and its 8-character short id', async () => {
      const queue = await makeQueue(ctx.docket, 's-id')
      const [a, b] = await ctx.docket.addMany([
        { queue, type: 't' },
        { queue, type: 't' },
      ])
      for (const job of [a!, b!]) {
        assert.deepEqual(idsOf((await ctx.docket.listJobs({ queue, id: job.id })).jobs), [job.id])
        assert.deepEqual(idsOf((await ctx.docket.listJobs({ queue, id: job.id.slice(-8) })).jobs), [job.id])
        assert.deepEqual(idsOf((await ctx.docket.listJobs({ queue, id: job.id.slice(0, 35) })).jobs), [
          job.id,
        ])
        assert.ok(idsOf((await ctx.docket.listJobs({ queue, id: job.id.slice(0, 6) })).jobs).includes(job.id))
        const dashless = job.id.replaceAll('-', '').slice(0, 24).toUpperCase()
        assert.deepEqual(idsOf((await ctx.docket.listJobs({ queue, id: dashless })).jobs), [job.id])
      }
      await expectError(() => ctx.docket.listJobs({ id: 'abcde' }), 'INVALID_ARGUMENT', ['id'])
      await expectError(() => ctx.docket.listJobs({ id: 'zzzzzzzz' }), 'INVALID_ARGUMENT', ['id'])
    })

    test('search matches the id, text in the payload and the last error message, case-insensitively', async () => {
      const queue = await makeQueue(ctx.docket, 's-text', { maxAttempts: 1 })
      const word = uniqueName('Word')
      const inPayload = await ctx.docket.add({ queue, type: 't', payload: { title: `A ${word} here`, n: 1 } })
      const failing = await ctx.docket.add({ queue, type: 't', payload: { n: 2 } })
      const other = await ctx.docket.add({ queue, type: 't', payload: { n: 3, literal: '50%_off' } })
      const claimed = await claimOne(ctx.docket, queue)
      assert.equal(claimed.id, inPayload.id)
      await ctx.docket.workers.complete(claimed)
      const second = await claimOne(ctx.docket, queue)
      assert.equal(second.id, failing.id)
      await ctx.docket.workers.fail(
        second,
        { message: `Gateway said ${word.toUpperCase()}-ERR` },
        { retryable: false },
      )

      const search = async (text: string) => idsOf((await ctx.docket.listJobs({ queue, search: text })).jobs)
      assert.deepEqual(await search(word), [inPayload.id, failing.id].sort())
      assert.deepEqual(await search(word.toLowerCase()), [inPayload.id, failing.id].sort())
      assert.deepEqual(await search(`${word}-err`), [failing.id])
      assert.deepEqual(await search(`A ${word} here`), [inPayload.id])
      assert.deepEqual(await search(other.id.slice(-8)), [other.id])
      assert.deepEqual(await search(other.id.slice(0, 35)), [other.id])
      assert.deepEqual(await search('50%_off'), [other.id])
      assert.deepEqual(await search('50%%off'), [])
      assert.deepEqual(await search('50__off'), [])
      assert.deepEqual(await search(`no such ${word}`), [])
      // blank is no search
      assert.equal((await ctx.docket.listJobs({ queue, search: '  ' })).jobs.length, 3)
      await expectError(() => ctx.docket.listJobs({ search: 'a\u0000b' }), 'INVALID_ARGUMENT', ['search'])
      await expectError(() => ctx.docket.listJobs({ search: 'x'.repeat(201) }), 'INVALID_ARGUMENT', [
        'search',
      ])
    })

    test('where compares typed payload values the same way on every driver', async () => {
      const queue = await makeQueue(ctx.docket, 's-where')
      const payloads = [
        { customerId: 42, user: { email: 'a@b.c' }, score: 1.5, ok: true, note: null, name: 'Zoë' },
        { customerId: '42', user: { email: 'B@b.c' }, score: 10, ok: false, name: 'abc' },
        { customerId: 42.0, user: 'not an object', score: -3, name: 'Abc' },
        { other: 1 },
      ]
      const jobs = await ctx.docket.addMany(payloads.map((payload) => ({ queue, type: 't', payload })))
      const [j0, j1, j2, j3] = jobs.map((j) => j.id) as [string, string, string, string]
      const where = async (text: string) => idsOf((await ctx.docket.listJobs({ queue, where: text })).jobs)
      const sorted = (...ids: string[]) => ids.sort()
      assert.deepEqual(await where('payload.customerId = 42'), sorted(j0, j2))
      assert.deepEqual(await where('payload.customerId = "42"'), [j1])
      assert.deepEqual(await where('payload.customerId != 42'), [])
      assert.deepEqual(await where('payload.user.email = "a@b.c"'), [j0])
      assert.deepEqual(await where('payload.user.email = "A@B.C"'), [], 'string equality is exact')
      assert.deepEqual(await where('payload.score > 1'), sorted(j0, j1))
      assert.deepEqual(await where('payload.score <= 1.5'), sorted(j0, j2))
      assert.deepEqual(await where('payload.score < 1e1 and payload.score >= -3'), sorted(j0, j2))
      assert.deepEqual(await where('payload.ok = true'), [j0])
      assert.deepEqual(await where('payload.ok = false'), [j1])
      assert.deepEqual(await where('payload.ok != true'), [j1])
      assert.deepEqual(await where('payload.note = null'), [j0])
      assert.deepEqual(await where('payload.note != null'), [])
      assert.deepEqual(await where('payload.other != null'), [j3])
      // strings order by their UTF-8 bytes, whatever the database's collation: "A" < "Z" < "a" < "z" < "ë"
      assert.deepEqual(await where('payload.name < "a"'), sorted(j0, j2))
      assert.deepEqual(await where('payload.name >= "abc"'), [j1])
      assert.deepEqual(await where('payload.name > "Zoz"'), sorted(j0, j1))
      assert.deepEqual(await where('payload.name = "Zoë"'), [j0])
      assert.deepEqual(await where('payload.user.email.x = 1'), [])
      assert.deepEqual(await where('payload.customerId = 42 and payload.score < 0'), [j2])
      assert.deepEqual(await where('payload.missing = 1'), [])

      for (const [bad, field] of [
        ['payload.customerId', 'where'],
        ['payload = 1', 'where'],
        ['jobs.id = 1', 'where'],
        ['payload.a = 1 or payload.b = 1', 'where'],
        ['payload.a = 1)', 'where'],
        ['payload.a-b = 1', 'where'],
        ['payload.a = undefined', 'where'],
        ['payload.a >= null', 'where'],
      ] as const) {
        await expectError(() => ctx.docket.listJobs({ queue, where: bad }), 'INVALID_ARGUMENT', [field])
      }
    })

    test('search and where combine with the other filters, cursors and counts', async () => {
      const queue = await makeQueue(ctx.docket, 's-page')
      const word = uniqueName('page')
      const added = await ctx.docket.addMany(
        Array.from({ length: 9 }, (_, i) => ({
          queue,
          type: i % 3 === 0 ? 'odd-one' : 'usual',
          owner: i % 2 === 0 ? 'carol' : 'dave',
          priority: 10 * i,
          payload: { tag: word, i },
        })),
      )
      const collect = async (filter: Parameters<typeof ctx.docket.listJobs>[0]) => {
        const seen: string[] = []
        let cursor: string | undefined
        do {
          const page = await ctx.docket.listJobs({ ...filter, cursor, limit: 2 })
          seen.push(...page.jobs.map((j) => j.id))
          cursor = page.nextCursor ?? undefined
        } while (cursor)
        return seen
      }
      const byPriority = await collect({ search: word, sort: 'priority', order: 'desc' })
      assert.deepEqual(
        byPriority,
        [...added].reverse().map((j) => j.id),
      )
      const carols = await collect({
        search: word,
        owner: 'carol',
        where: 'payload.i >= 2',
        sort: 'createdAt',
        order: 'asc',
      })
      assert.deepEqual(
        carols,
        added.filter((j) => j.owner === 'carol' && (j.payload as { i: number }).i >= 2).map((j) => j.id),
      )
      const page = await ctx.docket.listJobs({ search: word, type: 'usual', limit: 1, count: true })
      assert.equal(page.jobs.length, 1)
      assert.deepEqual(page.count, { value: 6, exact: true })
      assert.deepEqual(
        (await ctx.docket.listJobs({ where: `payload.tag = "${word}"`, owner: 'dave', count: true })).count,
        {
          value: 4,
          exact: true,
        },
      )
      assert.deepEqual((await ctx.docket.listJobs({ search: word, owner: 'nobody', count: true })).count, {
        value: 0,
        exact: true,
      })
      assert.equal((await ctx.docket.listJobs({ search: word })).count, undefined)
    })

    test('jobFilterSuggestions lists queues and types, only the owner’s when given', async () => {
      const queue = await makeQueue(ctx.docket, 's-suggest')
      const owner = uniqueName('owner')
      await ctx.docket.addMany([
        { queue, type: 'mine-a', owner },
        { queue, type: 'mine-b', owner },
        { queue, type: 'theirs', owner: uniqueName('other') },
      ])
      assert.deepEqual(await ctx.docket.jobFilterSuggestions({ owner }), {
        queues: [queue],
        types: ['mine-a', 'mine-b'],
      })
      const all = await ctx.docket.jobFilterSuggestions()
      assert.ok(all.queues.includes(queue))
      for (const type of ['mine-a', 'mine-b', 'theirs']) assert.ok(all.types.includes(type), type)
      await expectError(() => ctx.docket.jobFilterSuggestions({ owner: '' }), 'INVALID_ARGUMENT', ['owner'])
    })

    test('a search whose pattern would backtrack over large payloads ends within its time budget', async () => {
      // 199 × a then b, over payloads of a's: LIKE's backtracking made this seconds a row on SQLite,
      // which now matches in a scan's time; whatever a driver's matching costs, the budget bounds it.
      const queue = await makeQueue(ctx.docket, 's-patho')
      const big = 'a'.repeat(200 * 1024)
      await ctx.docket.addMany(
        Array.from({ length: 10 }, (_, i) => ({ queue, type: 't', payload: { i, big } })),
      )
      const bounded = await ctx.open({ searchTimeoutMs: 1_000 })
      try {
        const t0 = performance.now()
        const found = await bounded
          .listJobs({ queue, search: `${'a'.repeat(199)}b`, count: true })
          .catch((error: DocketError) => error)
        const ms = performance.now() - t0
        if (found instanceof Error) assert.match(found.message, /time budget of 1000 ms/)
        else assert.deepEqual([found.jobs.length, found.count?.value], [0, 0])
        assert.ok(ms < 3_000, `the search took ${Math.round(ms)} ms`)
        assert.deepEqual((await ctx.docket.listJobs({ queue, search: 'a'.repeat(200) })).jobs.length, 10)
      } finally {
        await bounded.close()
      }
    })

    test('search ignores case beyond ASCII on every driver', async () => {
      const queue = await makeQueue(ctx.docket, 's-case')
      const job = await ctx.docket.add({ queue, type: 't', payload: { city: 'ÉVORA São Paulo' } })
      for (const text of ['évora', 'SÃO PAULO', 'Évora'])
        assert.deepEqual(idsOf((await ctx.docket.listJobs({ queue, search: text })).jobs), [job.id], text)
    })

    test('a search that runs past searchTimeoutMs is stopped and refused, naming the option to narrow', async () => {
      const queue = await makeQueue(ctx.docket, 's-budget')
      const big = 'x'.repeat(200 * 1024)
      await ctx.docket.addMany(
        Array.from({ length: 20 }, (_, i) => ({ queue, type: 't', payload: { i, big } })),
      )
      const hurried = await ctx.open({ searchTimeoutMs: 1 })
      for (const [filter, field] of [
        [{ search: 'never-there' }, 'search'],
        [{ where: 'payload.big = "y"' }, 'where'],
      ] as const) {
        const error = await expectError(() => hurried.listJobs({ queue, ...filter }), 'INVALID_ARGUMENT', [
          field,
        ])
        assert.match(error.message, /time budget of 1 ms \(searchTimeoutMs\)/)
        assert.match(error.message, /narrow it/)
      }
      // Without search or where the budget does not apply; and the usual one lets it through.
      assert.equal((await hurried.listJobs({ queue, limit: 100 })).jobs.length, 20)
      assert.equal((await ctx.docket.listJobs({ queue, search: 'never-there' })).jobs.length, 0)
      await hurried.close()
    })

    test('fingerprint finds the jobs whose last error is of one class, and bulk actions act on them', async () => {
      const { docket } = ctx
      const queue = await makeQueue(docket, 's-print', { maxAttempts: 1 })
      const failWith = async (message: string) => {
        const job = await docket.add({ queue, type: 't' })
        const claimed = await claimOne(docket, queue)
        assert.equal(claimed.id, job.id)
        await docket.workers.fail(claimed, { name: 'SmtpError', message })
        return job.id
      }
      const rejected = [
        await failWith('550 5.1.1 <alice@example.com>: Recipient address rejected'),
        await failWith('550 5.1.1 <bob@example.org>: Recipient address rejected'),
      ]
      const other = await failWith('421 4.7.0 try again later')
      await docket.add({ queue, type: 't' })
      const fingerprint = (await docket.getJob(rejected[0]!)).lastError!.fingerprint
      assert.equal((await docket.getJob(rejected[1]!)).lastError!.fingerprint, fingerprint)
      assert.notEqual((await docket.getJob(other)).lastError!.fingerprint, fingerprint)

      const page = await docket.listJobs({ queue, fingerprint, count: true })
      assert.deepEqual(idsOf(page.jobs), [...rejected].sort())
      assert.deepEqual(page.count, { value: 2, exact: true })
      // With the other filters, and alone: no other queue has this class.
      assert.deepEqual(
        idsOf((await docket.listJobs({ fingerprint, status: 'failed' })).jobs),
        [...rejected].sort(),
      )
      assert.equal((await docket.listJobs({ queue, fingerprint, status: 'waiting' })).jobs.length, 0)

      assert.deepEqual(await docket.actOnJobs('retry', { filter: { queue, fingerprint } }), {
        matched: 2,
        changed: 2,
      })
      for (const id of rejected) assert.equal((await docket.getJob(id)).status, 'waiting')
      assert.equal((await docket.getJob(other)).status, 'failed')

      await expectError(() => docket.listJobs({ fingerprint: 'ABC' }), 'INVALID_ARGUMENT', ['fingerprint'])
    })
  })
}
