/**
 * /api/v1/schedules over HTTP: CRUD, pause, resume and run now; a user's
 * schedules make that user's jobs, and another user's schedule is NOT_FOUND
 * exactly as a missing one; bad cron, time zone or options are 400 naming the
 * field, and create nothing.
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { type Driver, type Json, UNKNOWN_ID, useServer } from './harness.js'

const S = '/api/v1/schedules'
const masked = (error: Json, id: string) => JSON.parse(JSON.stringify(error).replaceAll(id, '<id>')) as Json

export function schedulesSuite(driver: Driver): void {
  describe(`server: schedules [${driver}]`, () => {
    const s = useServer(driver)
    let alices: Json

    before(async () => {
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'sch' })
      await s.ok(201, 'admin', 'POST', '/api/v1/queues', { name: 'sch-held', mode: 'manual' })
      alices = await s.ok(201, 'alice', 'POST', S, {
        name: 'nightly',
        cron: '0 0 3 * * *',
        timezone: 'Europe/Berlin',
        queue: 'sch',
        type: 'report',
        payload: { kind: 'nightly' },
        options: { priority: 'high' },
        catchUp: 'none',
        overlap: 'skip',
      })
    })

    it('creates a schedule owned by the user, with its next runs', async () => {
      assert.equal(alices.owner, 'alice')
      assert.equal(alices.cron, '0 0 3 * * *')
      assert.equal(alices.catchUp, 'none')
      assert.ok(Date.parse(alices.nextRunAt) > Date.now())
      const detail = await s.ok(200, 'alice', 'GET', `${S}/${alices.id}?next=3`)
      assert.equal(detail.nextRuns.length, 3)
      assert.equal(detail.nextRuns[0], alices.nextRunAt)
      assert.deepEqual(detail.runs, [])
    })

    it('run now makes a job owned by the schedule’s owner, and lists it among the runs', async () => {
      const run = await s.ok(201, 'alice', 'POST', `${S}/${alices.id}/run`)
      assert.equal(run.manual, true)
      assert.equal(run.outcome, 'waiting')
      const job = await s.ok(200, 'alice', 'GET', `/api/v1/jobs/${run.jobId}`)
      assert.deepEqual(
        [job.owner, job.type, job.priority, job.payload],
        ['alice', 'report', 75, { kind: 'nightly' }],
      )
      const detail = await s.ok(200, 'alice', 'GET', `${S}/${alices.id}`)
      assert.deepEqual(
        detail.runs.map((r: Json) => r.jobId),
        [run.jobId],
      )
      // overlap: skip — the first job is still waiting.
      const second = await s.ok(201, 'alice', 'POST', `${S}/${alices.id}/run`)
      assert.equal(second.outcome, 'skipped')
    })

    it('a schedule into a manual-mode queue makes held jobs', async () => {
      const held = await s.ok(201, 'admin', 'POST', S, {
        name: 'gated',
        every: 60_000,
        queue: 'sch-held',
        type: 'x',
      })
      assert.equal(held.owner, null)
      const run = await s.ok(201, 'admin', 'POST', `${S}/${held.id}/run`)
      assert.equal(run.outcome, 'held')
      await s.ok(200, 'admin', 'DELETE', `${S}/${held.id}`)
    })

    it('updates, pauses and resumes', async () => {
      const patched = await s.ok(200, 'alice', 'PATCH', `${S}/${alices.id}`, { payload: { kind: 'v2' } })
      assert.deepEqual(patched.payload, { kind: 'v2' })
      assert.equal(patched.cron, '0 0 3 * * *')
      const paused = await s.ok(200, 'alice', 'POST', `${S}/${alices.id}/pause`)
      assert.deepEqual([paused.enabled, paused.nextRunAt], [false, null])
      const resumed = await s.ok(200, 'alice', 'POST', `${S}/${alices.id}/resume`)
      assert.equal(resumed.enabled, true)
      assert.ok(resumed.nextRunAt)
    })

    it('lists a user’s own schedules only; an admin sees all, or one owner’s', async () => {
      const bobs = await s.ok(201, 'bob', 'POST', S, {
        name: 'nightly',
        every: 3_600_000,
        queue: 'sch',
        type: 'r',
      })
      assert.equal(bobs.owner, 'bob', 'the same name for another owner is fine')
      const names = async (who: 'alice' | 'bob' | 'admin', q = '') =>
        ((await s.ok(200, who, 'GET', `${S}${q}`)).schedules as Json[]).map((x) => `${x.owner}/${x.name}`)
      assert.deepEqual(await names('alice'), ['alice/nightly'])
      assert.deepEqual(await names('bob'), ['bob/nightly'])
      assert.deepEqual(await names('alice', '?owner=bob'), [])
      assert.deepEqual((await names('admin')).sort(), ['alice/nightly', 'bob/nightly'])
      assert.deepEqual(await names('admin', '?owner=bob'), ['bob/nightly'])
      const listed = (await s.ok(200, 'alice', 'GET', `${S}?runs=1`)).schedules[0]
      assert.equal(listed.runs.length, 1, 'the list carries the latest runs and their outcomes')
      assert.equal(listed.nextRuns.length, 3)
      await s.ok(200, 'bob', 'DELETE', `${S}/${bobs.id}`)
    })

    it('another user’s schedule is NOT_FOUND exactly as a missing one, on every route, and stays unchanged', async () => {
      const before = await s.ok(200, 'admin', 'GET', `${S}/${alices.id}`)
      const probes: [string, string, unknown?][] = [
        ['GET', ''],
        ['PATCH', '', { payload: { by: 'bob' } }],
        ['DELETE', ''],
        ['POST', '/pause'],
        ['POST', '/resume'],
        ['POST', '/run'],
      ]
      for (const [method, suffix, body] of probes) {
        const theirs = await s.fail(404, 'NOT_FOUND', 'bob', method, `${S}/${alices.id}${suffix}`, body)
        const none = await s.fail(404, 'NOT_FOUND', 'bob', method, `${S}/${UNKNOWN_ID}${suffix}`, body)
        assert.deepEqual(masked(theirs, alices.id), masked(none, UNKNOWN_ID), `${method} ${suffix}`)
      }
      assert.deepEqual(await s.ok(200, 'admin', 'GET', `${S}/${alices.id}`), before)
      await s.fail(403, 'FORBIDDEN', 'bob', 'POST', S, {
        name: 'x',
        every: 60_000,
        queue: 'sch',
        type: 't',
        owner: 'alice',
      })
      await s.fail(403, 'FORBIDDEN', 'worker', 'GET', S)
    })

    it('refuses bad input with 400 naming the field, creating nothing', async () => {
      const base = { name: 'bad', queue: 'sch', type: 't' }
      const cases: [Json, string][] = [
        [{ ...base, cron: '61 * * * *' }, 'minute field: 61 is out of range 0-59'],
        [{ ...base, cron: '* * * * *', timezone: 'Mars/Olympus' }, 'timezone'],
        [{ ...base, cron: 'every day' }, 'cron'],
        [{ ...base, every: 'often' }, 'every'],
        [{ ...base, every: 60_000, catchUp: 'sometimes' }, 'catchUp'],
        [{ ...base, every: 60_000, options: { dependsOn: [UNKNOWN_ID] } }, 'options'],
        [{ ...base, every: 60_000, repeat: { every: 1 } }, 'repeat'],
        [{ ...base }, 'cron or every'],
      ]
      for (const [body, mention] of cases) {
        const error = await s.fail(400, 'INVALID_ARGUMENT', 'alice', 'POST', S, body)
        assert.ok(
          error.message.includes(mention) || JSON.stringify(error.details).includes(mention),
          `${JSON.stringify(body)}: ${error.message}`,
        )
      }
      await s.fail(404, 'NOT_FOUND', 'alice', 'POST', S, { ...base, every: 60_000, queue: 'no-such-queue' })
      await s.fail(409, 'CONFLICT', 'alice', 'POST', S, { ...base, name: 'nightly', every: 60_000 })
      await s.fail(400, 'INVALID_ARGUMENT', 'alice', 'PATCH', `${S}/${alices.id}`, { cron: '0 0 25 * * *' })
      await s.fail(400, 'INVALID_ARGUMENT', 'alice', 'GET', `${S}/not-a-uuid`)
      const names = ((await s.ok(200, 'admin', 'GET', S)).schedules as Json[]).map((x) => x.name)
      assert.deepEqual(names, ['nightly'])
      assert.equal((await s.ok(200, 'alice', 'GET', `${S}/${alices.id}`)).cron, '0 0 3 * * *')
    })

    it('deletes a schedule; the jobs it made stay', async () => {
      const { runs } = await s.ok(200, 'alice', 'GET', `${S}/${alices.id}`)
      await s.ok(200, 'alice', 'DELETE', `${S}/${alices.id}`)
      await s.fail(404, 'NOT_FOUND', 'alice', 'GET', `${S}/${alices.id}`)
      await s.ok(200, 'alice', 'GET', `/api/v1/jobs/${runs.at(-1).jobId}`)
    })
  })
}
