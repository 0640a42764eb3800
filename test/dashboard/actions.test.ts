/**
 * Steering from the dashboard: pause and resume a queue, switch its mode and
 * change its limit; retry, cancel, promote and re-prioritise jobs from their
 * page, promote a held job from the board, cancel several at once. Each
 * action shows its result on the page and is checked in the database.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Page } from 'playwright-core'
import { buildApp } from '../../src/server/app.js'
import { type Env, live, signIn, startEnv, until } from './harness.js'

describe('dashboard: actions', () => {
  let env: Env
  let page: Page
  const later = { delayMs: 3_600_000 }

  before(async () => {
    env = await startEnv()
    page = await signIn(env, env.keys.admin)
  })
  after(async () => env?.close())

  it('pauses and resumes a queue, switches its mode and sets its concurrency limit', async () => {
    await page.goto('/queues/documents')
    await live(page)
    const head = page.locator('.page-sub')
    await page.getByRole('button', { name: 'Pause' }).click()
    await head.locator('.badge', { hasText: 'paused' }).waitFor()
    await page.getByRole('button', { name: 'Resume' }).waitFor()
    assert.equal((await env.docket.getQueue('documents')).status, 'paused')

    await page.getByRole('button', { name: 'Resume' }).click()
    await page.getByRole('button', { name: 'Pause' }).waitFor()
    await head.locator('.badge', { hasText: 'paused' }).waitFor({ state: 'detached' })
    assert.equal((await env.docket.getQueue('documents')).status, 'active')

    await page.getByRole('button', { name: 'Switch to manual' }).click()
    await head.locator('.badge', { hasText: 'manual' }).waitFor()
    assert.equal((await env.docket.getQueue('documents')).mode, 'manual')
    await page.getByRole('button', { name: 'Switch to automatic' }).click()
    await head.locator('.badge', { hasText: 'automatic' }).waitFor()
    assert.equal((await env.docket.getQueue('documents')).mode, 'automatic')

    await page.getByLabel('Concurrency limit').fill('7')
    await page.getByRole('button', { name: 'Save', exact: true }).click()
    await head.getByText('concurrency 7').waitFor()
    assert.equal((await env.docket.getQueue('documents')).concurrency, 7)

    await page.getByLabel('Rate limit', { exact: true }).fill('50')
    await page.getByLabel('per seconds').fill('2')
    await page.getByRole('button', { name: 'Set rate limit' }).click()
    await head.getByText('at most 50 starts per 2').waitFor()
    assert.deepEqual((await env.docket.getQueue('documents')).rateLimit, { max: 50, intervalMs: 2000 })
    await page.getByLabel('Rate limit', { exact: true }).fill('')
    await page.getByRole('button', { name: 'Set rate limit' }).click()
    await head.getByText('at most 50 starts').waitFor({ state: 'detached' })
    assert.equal((await env.docket.getQueue('documents')).rateLimit, null)
  })

  it('retries a failed job, which then completes', async () => {
    const job = await env.docket.add({ queue: 'emails', type: 'flaky' })
    await until(env, job.id, ['failed'])
    await page.goto(`/jobs/${job.id}`)
    await page.locator('h1 .badge', { hasText: 'failed' }).waitFor()
    await live(page)
    await page.getByRole('button', { name: 'Retry' }).click()
    await page.locator('h1 .badge', { hasText: 'completed' }).waitFor()
    await page.locator('.attempts tbody tr').nth(1).waitFor()
    const done = await env.docket.getJob(job.id)
    assert.equal(done.status, 'completed')
    assert.equal(done.errorCount, 1)
  })

  it('cancels a job, and changes the priority of another', async () => {
    const job = await env.docket.add({ queue: 'emails', type: 'quick', ...later })
    await page.goto(`/jobs/${job.id}`)
    await page.locator('h1 .badge', { hasText: 'scheduled' }).waitFor()

    await page.getByLabel('Priority').selectOption('75')
    await page.getByRole('button', { name: 'Set priority' }).click()
    await page.locator('.facts dd', { hasText: 'high (75)' }).waitFor()
    assert.equal((await env.docket.getJob(job.id)).priority, 75)

    await page.getByRole('button', { name: 'Cancel' }).click()
    await page.locator('h1 .badge', { hasText: 'cancelled' }).waitFor()
    await page.getByRole('button', { name: 'Retry' }).waitFor()
    assert.equal(await page.getByRole('button', { name: 'Cancel' }).count(), 0)
    assert.equal((await env.docket.getJob(job.id)).status, 'cancelled')
  })

  it('promotes a scheduled job from its page, and it runs', async () => {
    const job = await env.docket.add({ queue: 'emails', type: 'quick', ...later })
    await page.goto(`/jobs/${job.id}`)
    await page.locator('h1 .badge', { hasText: 'scheduled' }).waitFor()
    await live(page)
    await page.getByRole('button', { name: 'Promote' }).click()
    await page.locator('h1 .badge', { hasText: 'completed' }).waitFor()
    await page.locator('#result-title ~ .json', { hasText: '"sent": true' }).waitFor()
  })

  it('promotes a held job from the board', async () => {
    const job = await env.docket.add({ queue: 'review', type: 'quick', payload: { document: 1 } })
    await page.goto('/board?queue=review')
    await page.locator(`.column-held [data-job="${job.id}"]`).waitFor()
    await live(page)
    await page.getByRole('button', { name: `Promote job ${job.id}` }).click()
    await page.locator(`.column-held [data-job="${job.id}"]`).waitFor({ state: 'detached' })
    await page.locator(`.column-completed [data-job="${job.id}"]`).waitFor()
    assert.equal((await until(env, job.id, ['completed'])).status, 'completed')
  })

  it('cancels the selected jobs of a queue in one go', async () => {
    const jobs = [
      await env.docket.add({ queue: 'emails', type: 'bulk', ...later }),
      await env.docket.add({ queue: 'emails', type: 'bulk', ...later }),
      await env.docket.add({ queue: 'emails', type: 'bulk', ...later }),
    ]
    await page.goto('/queues/emails?state=scheduled&type=bulk')
    for (const j of jobs) await page.locator(`tr[data-job="${j.id}"]`).waitFor()
    await page.getByLabel(`Select job ${jobs[0]!.id}`).check()
    await page.getByLabel(`Select job ${jobs[1]!.id}`).check()
    await page.locator('.bulk', { hasText: '2 selected' }).waitFor()
    await page.locator('.bulk').getByRole('button', { name: 'Cancel' }).click()
    await page.getByRole('status').filter({ hasText: '2 jobs cancelled.' }).waitFor()
    await page.locator(`tr[data-job="${jobs[0]!.id}"]`).waitFor({ state: 'detached' })
    const statuses = await Promise.all(jobs.map(async (j) => (await env.docket.getJob(j.id)).status))
    assert.deepEqual(statuses, ['cancelled', 'cancelled', 'scheduled'])
  })

  it('cancels every job the filters match, on all pages, after a confirmation that repeats the count', async () => {
    const jobs = await env.docket.addMany(
      Array.from({ length: 55 }, (_, i) => ({ queue: 'emails', type: 'matching', payload: { i }, ...later })),
    )
    const other = await env.docket.add({ queue: 'emails', type: 'not-matching', ...later })
    await page.goto('/queues/emails?state=scheduled&type=matching')
    const all = page.getByRole('button', { name: 'Cancel all 55 scheduled in emails' })
    await all.click()
    await page.getByText('Cancel 55 scheduled jobs in emails, on every page?').waitFor()
    await page.getByRole('button', { name: 'Cancel all 55', exact: true }).click()
    await page.getByRole('status').filter({ hasText: '55 jobs cancelled.' }).waitFor()
    const statuses = new Set(await Promise.all(jobs.map(async (j) => (await env.docket.getJob(j.id)).status)))
    assert.deepEqual([...statuses], ['cancelled'], 'every page, not only the 50 shown')
    assert.equal((await env.docket.getJob(other.id)).status, 'scheduled')
    await all.waitFor({ state: 'detached' })
  })

  it('asks before removing a queue’s concurrency limit, and before cancelling a running job', async () => {
    await env.docket.updateQueue('documents', { concurrency: 4 })
    await page.goto('/queues/documents')
    const head = page.locator('.page-sub')
    await head.getByText('concurrency 4').waitFor()
    await page.getByLabel('Concurrency limit').fill('')
    await page.getByRole('button', { name: 'Save' }).click()
    await page.getByText('Remove the limit of 4?').waitFor()
    await page.getByRole('button', { name: 'Keep 4' }).click()
    assert.equal((await env.docket.getQueue('documents')).concurrency, 4, 'kept')
    assert.equal(await page.getByLabel('Concurrency limit').inputValue(), '4')
    await page.getByLabel('Concurrency limit').fill('')
    await page.getByRole('button', { name: 'Save' }).click()
    await page.getByRole('button', { name: 'Remove the limit' }).click()
    await page.getByRole('status').filter({ hasText: 'documents: no concurrency limit.' }).waitFor()
    assert.equal((await env.docket.getQueue('documents')).concurrency, null)
    await env.docket.updateQueue('documents', { concurrency: 4 })

    const job = await env.docket.add({
      queue: 'documents',
      type: 'analyse',
      payload: { gate: 'confirm-cancel' },
    })
    await until(env, job.id, ['active'])
    await page.goto(`/jobs/${job.id}`)
    await page.locator('h1 .badge', { hasText: 'active' }).waitFor()
    await page.getByRole('button', { name: 'Cancel…' }).click()
    await page.getByRole('button', { name: 'Let it run' }).click()
    assert.equal((await env.docket.getJob(job.id)).status, 'active', 'not cancelled without a confirmation')
    await page.getByRole('button', { name: 'Cancel…' }).click()
    await page.getByRole('button', { name: 'Cancel the running job' }).click()
    await page.locator('h1 .badge', { hasText: 'cancelled' }).waitFor()
    assert.equal((await env.docket.getJob(job.id)).status, 'cancelled')
  })

  it('keeps ticked jobs through live updates that move them off the page, and pauses live updates on request', async () => {
    const ticked = await env.docket.add({ queue: 'emails', type: 'keep', ...later })
    await page.goto('/queues/emails?state=scheduled')
    await page.locator(`tr[data-job="${ticked.id}"]`).waitFor()
    await live(page)
    await page.getByLabel(`Select job ${ticked.id}`).check()
    // Fifty newer jobs push the ticked one to the second page (newest first).
    await env.docket.addMany(
      Array.from({ length: 50 }, () => ({ queue: 'emails', type: 'pushed', ...later })),
    )
    await page.locator(`tr[data-job="${ticked.id}"]`).waitFor({ state: 'detached' })
    await page.locator('.bulk', { hasText: '1 selected (1 no longer on this page)' }).waitFor()
    await page.locator('.bulk').getByRole('button', { name: 'Cancel' }).click()
    await page.getByRole('status').filter({ hasText: '1 job cancelled.' }).waitFor()
    assert.equal((await env.docket.getJob(ticked.id)).status, 'cancelled')

    await page.getByLabel('Pause live updates').check()
    const first = await page.locator('tbody tr').first().getAttribute('data-job')
    const newest = await env.docket.add({ queue: 'emails', type: 'pushed', ...later })
    await page.getByLabel('Pause live updates').uncheck()
    await page.locator(`tr[data-job="${newest.id}"]`).waitFor()
    assert.notEqual(first, newest.id)
    await env.docket.actOnJobs('cancel', { filter: { queue: 'emails', type: 'pushed' } })
  })

  it('still acts after the server restarts (the session and its CSRF token live in the database), and the feed reconnects', async () => {
    await page.goto('/queues/emails')
    await live(page)
    await env.app.close()
    env.app = await buildApp({ docket: env.docket })
    await env.app.listen({ host: '127.0.0.1', port: Number(new URL(env.base).port) })
    await page.getByRole('button', { name: 'Pause' }).click()
    await page.locator('.page-sub .badge', { hasText: 'paused' }).waitFor()
    assert.equal((await env.docket.getQueue('emails')).status, 'paused')
    await live(page)
    await env.docket.resumeQueue('emails')
    await page.getByRole('button', { name: 'Pause' }).waitFor()
  })
})
