/**
 * Every page of the dashboard renders what the server holds: queues with
 * counts, charts and workers on the overview; a queue's jobs with filters
 * from the URL; a job's steps, result, error, dependencies and files; the
 * board; workers with the lost one standing out; batches; statistics.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import type { Page } from 'playwright-core'
import type { Job } from '../../src/index.js'
import { type Env, signIn, startEnv, until } from './harness.js'

describe('dashboard: every page shows real data', () => {
  let env: Env
  let page: Page
  let doc: Job
  let parent: Job
  let child: Job
  let flaky: Job
  let held: Job
  let batchId: string
  const pdf = Buffer.from('%PDF-1.4\n% a tiny test file\n')

  before(async () => {
    env = await startEnv()
    const d = env.docket
    doc = (
      await d.addWithFiles(
        { queue: 'documents', type: 'analyse', payload: { file: 'invoice.pdf', pages: 3 }, owner: 'alice' },
        [{ name: 'invoice.pdf', mediaType: 'application/pdf', data: pdf }],
      )
    ).job
    parent = await d.add({ queue: 'documents', type: 'analyse', payload: { gate: 'parent' } })
    child = await d.add({
      queue: 'emails',
      type: 'quick',
      payload: { to: 'sam@example.com' },
      dependsOn: [parent.id],
    })
    flaky = await d.add({ queue: 'emails', type: 'flaky', payload: { url: 'https://example.com/feed' } })
    held = await d.add({ queue: 'review', type: 'quick', payload: { document: 7 } })
    const batch = await d.addBatch(
      [
        { queue: 'emails', type: 'quick', payload: { to: 'a@example.com' } },
        { queue: 'emails', type: 'quick', payload: { to: 'b@example.com' } },
      ],
      { name: 'newsletter', owner: 'bob' },
    )
    batchId = batch.batch.id
    await until(env, doc.id, ['completed'])
    await until(env, flaky.id, ['failed'])
    await until(env, parent.id, ['active'])
    for (const j of batch.jobs) await until(env, j.id, ['completed'])
    page = await signIn(env, env.keys.admin)
  })

  after(async () => {
    env?.gates.open('parent:extract')
    await env?.close()
  })

  it('overview: queues with counts by state and badges, the throughput chart, active and lost workers', async () => {
    await page.goto('/')
    const emails = page.locator('tr[data-queue="emails"]')
    await emails.locator('.state-failed .counts-n', { hasText: '1' }).waitFor()
    await emails.locator('.state-completed .counts-n', { hasText: '2' }).waitFor()
    await emails.locator('.state-blocked .counts-n', { hasText: '1' }).waitFor()
    await page.locator('tr[data-queue="review"] .badge', { hasText: 'manual' }).waitFor()
    await page.locator('tr[data-queue="review"] .state-held .counts-n', { hasText: '1' }).waitFor()
    await page.locator('tr[data-queue="documents"] .badge', { hasText: 'max 4' }).waitFor()
    await page.locator('#throughput-title').waitFor()
    await page.locator('section:has(#throughput-title) canvas').first().waitFor()
    await emails.locator('.chart-spark canvas').first().waitFor()
    await page.locator('.chip.worker-lost', { hasText: 'old-box' }).waitFor()
    await page.locator('.chip.worker-up').first().waitFor()
  })

  it('queue page: the jobs table, with filters from a shareable URL', async () => {
    await page.goto('/queues/emails')
    await page.locator(`tr[data-job="${flaky.id}"] .badge`, { hasText: 'failed' }).waitFor()
    await page.locator(`tr[data-job="${flaky.id}"]`, { hasText: 'upstream answered 503' }).waitFor()
    await page.locator(`tr[data-job="${child.id}"] .badge`, { hasText: 'blocked' }).waitFor()

    await page.getByLabel('State', { exact: true }).selectOption('failed')
    await page.waitForURL(/\/queues\/emails\?state=failed$/)
    await page.locator(`tr[data-job="${child.id}"]`).waitFor({ state: 'detached' })
    await page.locator(`tr[data-job="${flaky.id}"]`).waitFor()
    assert.equal(await page.locator('table.jobs tbody tr').count(), 1)

    await page.goto(`/queues/emails?batch=${batchId}`)
    await page.locator('tbody tr').nth(1).waitFor()
    assert.equal(await page.locator(`tr[data-job="${flaky.id}"]`).count(), 0)
    assert.equal(await page.getByLabel('Batch id').inputValue(), batchId)
  })

  it('queue page: pages through the server cursors, forward and back', async () => {
    await env.docket.createQueue({ name: 'many' })
    await env.docket.addMany(
      Array.from({ length: 60 }, (_, i) => ({
        queue: 'many',
        type: 'later',
        payload: { i },
        delayMs: 3_600_000,
      })),
    )
    await page.goto('/queues/many')
    const rows = page.locator('tbody tr')
    await rows.nth(49).waitFor()
    assert.equal(await rows.count(), 50)
    const first = await rows.first().getAttribute('data-job')
    await page.getByRole('button', { name: 'Next →' }).click()
    await page.waitForURL(/\/queues\/many\?cursor=/)
    await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 10)
    assert.equal(await page.locator(`tr[data-job="${first}"]`).count(), 0)
    assert.ok(await page.getByRole('button', { name: 'Next →' }).isDisabled())
    await page.getByRole('button', { name: '← Previous' }).click()
    await page.waitForURL(/\/queues\/many$/)
    await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 50)
    await page.locator(`tr[data-job="${first}"]`).waitFor()
  })

  it('job page: state, steps with durations, payload and result, and files to download', async () => {
    await page.goto(`/jobs/${doc.id}`)
    await page.locator('h1 .badge', { hasText: 'completed' }).waitFor()
    for (const step of ['extract', 'classify', 'summarise'])
      await page.locator('.timeline .step-completed .step-name', { hasText: step }).waitFor()
    await page.locator('#result-title ~ .json', { hasText: '"confidence": 0.93' }).waitFor()
    await page.locator('#payload-title ~ .json', { hasText: '"file": "invoice.pdf"' }).waitFor()
    const link = page.getByRole('link', { name: 'invoice.pdf' })
    const download = await page.request.get((await link.getAttribute('href'))!)
    assert.equal(download.status(), 200)
    assert.deepEqual(Buffer.from(await download.body()), pdf)
    await page.locator('.attempts tbody tr', { hasText: 'completed' }).waitFor()
  })

  it('job page: the error with its stack, the attempts, and dependencies both ways', async () => {
    await page.goto(`/jobs/${flaky.id}`)
    await page.locator('.error-card .error-message', { hasText: 'upstream answered 503' }).waitFor()
    // On a failed job the stack is open from the start.
    await page.locator('.error-card .stack', { hasText: 'at ' }).waitFor({ state: 'visible' })
    // Every attempt with its worker and its own error, from the server's attempt history.
    const failed = page.locator('.attempts tbody tr', { hasText: 'failed' })
    await failed.first().waitFor()
    assert.ok((await failed.count()) >= 1)
    await failed.first().locator('.attempt-error', { hasText: 'upstream answered 503' }).waitFor()
    const detail = await env.docket.getJob(flaky.id)
    await page
      .locator('.attempts tbody td', { hasText: detail.attemptHistory[0]!.workerId! })
      .first()
      .waitFor()

    // A job that failed once and then completed leads with no red card, only a note.
    const recovered = await env.docket.add({ queue: 'documents', type: 'flaky' })
    await until(env, recovered.id, ['completed'])
    await page.goto(`/jobs/${recovered.id}`)
    await page.locator('h1 .badge', { hasText: 'completed' }).waitFor()
    await page.getByTestId('earlier-errors').filter({ hasText: '1 earlier attempt failed' }).waitFor()
    assert.equal(await page.locator('.error-card').count(), 0)
    await page.locator('.attempts .attempt-error', { hasText: 'upstream answered 503' }).waitFor()

    await page.goto(`/jobs/${child.id}`)
    await page.locator('h1 .badge', { hasText: 'blocked' }).waitFor()
    await page.locator(`a[href="/jobs/${parent.id}"]`).waitFor()
    await page.locator(`a[href="/jobs/${parent.id}"]`).click()
    await page.waitForURL(`**/jobs/${parent.id}`)
    await page.locator(`a[href="/jobs/${child.id}"]`).waitFor()

    await page.goto(`/jobs/${randomUUID()}`)
    await page.getByRole('heading', { name: 'Job not found' }).waitFor()
  })

  it('board: cards in columns by state, a held job with its promote button', async () => {
    await page.goto('/board?queue=review')
    await page.locator(`.column-held [data-job="${held.id}"]`).waitFor()
    await page.getByRole('button', { name: `Promote job ${held.id}` }).waitFor()
    await page.getByLabel('Queue').selectOption('emails')
    await page.waitForURL(/\/board\?queue=emails$/)
    await page
      .locator(`.column-failed [data-job="${flaky.id}"]`, { hasText: 'upstream answered 503' })
      .waitFor()
    await page.locator('.column-completed .job-card').first().waitFor()
  })

  it('workers: host, kind, capabilities, load and heartbeat; the lost one stands out', async () => {
    await page.goto('/workers')
    const lost = page.locator('tr[data-worker="ghost-1"]')
    await lost.waitFor()
    assert.match((await lost.getAttribute('class')) ?? '', /worker-lost/)
    await lost.locator('.badge', { hasText: 'lost' }).waitFor()
    await lost.getByText('old-box').waitFor()
    await page.getByRole('alert').filter({ hasText: 'stopped sending heartbeats' }).waitFor()
    const up = page.locator('tr[data-worker="test-worker"]')
    await up.locator('.badge', { hasText: 'up' }).waitFor()
    await up.getByText('pdf').waitFor()
    await up.getByText('documents, emails, review').waitFor()
    await up.locator('meter').waitFor()
  })

  it('batches: progress and counts of each batch, and a batch with its jobs', async () => {
    await page.goto('/batches')
    const card = page.locator(`li[data-batch="${batchId}"]`)
    await card.getByRole('link', { name: 'newsletter' }).waitFor()
    await card.locator('.state-completed .counts-n', { hasText: '2' }).waitFor()
    await card.locator('[role="progressbar"][aria-valuenow="100"]').waitFor()
    await card.getByRole('link', { name: 'newsletter' }).click()
    await page.waitForURL(`**/batches/${batchId}`)
    await page.locator('tbody tr').nth(1).waitFor()
    assert.equal(await page.locator('tbody tr').count(), 2)
  })

  it('queue page: its rate limit and group rules, and the busiest groups', async () => {
    await env.docket.createQueue({
      name: 'tenants',
      fair: true,
      groupConcurrency: 2,
      rateLimit: { max: 10, intervalMs: 1_000, per: 'group' },
    })
    await env.docket.addMany([
      ...Array.from({ length: 3 }, () => ({ queue: 'tenants', type: 't', group: 'acme' })),
      { queue: 'tenants', type: 't', group: 'globex' },
    ])
    await page.goto('/queues/tenants')
    await page.locator('.badge', { hasText: 'fair between groups' }).waitFor()
    await page.getByText('2 at once per group').waitFor()
    await page.getByText(/at most 10 starts per .* per group/).waitFor()
    const acme = page.locator('section.groups tr[data-group="acme"]')
    await acme.waitFor()
    assert.deepEqual(await acme.locator('td').allTextContents(), ['acme', '0', '3'])
  })

  it('queue page: the rate limit’s current use, and when a full window has room again', async () => {
    await env.docket.createQueue({ name: 'metered', rateLimit: { max: 2, intervalMs: 3_600_000 } })
    await env.docket.addMany(Array.from({ length: 3 }, () => ({ queue: 'metered', type: 't' })))
    await page.goto('/queues/metered')
    const use = page.locator('p.rate-use')
    await use.getByText('0 of 2 starts in the last 1 h 0 min', { exact: false }).waitFor()
    assert.equal(await use.getAttribute('data-full'), 'false')
    await env.docket.workers.claim({ workerId: 'dash-rate', queues: ['metered'], limit: 5 })
    await page.reload()
    await use.getByText('2 of 2 starts', { exact: false }).waitFor()
    assert.equal(await use.getAttribute('data-full'), 'true')
    await use.locator('.badge', { hasText: 'full' }).waitFor()
    assert.match((await use.locator('time').textContent()) ?? '', /^in (60 min|1 h)$/)
  })

  it('schedules: each with its timing, next runs and latest runs with outcomes; pause and run now', async () => {
    const s = await env.docket.createSchedule({
      name: 'nightly-digest',
      cron: '0 3 * * *',
      timezone: 'Europe/Berlin',
      queue: 'review',
      type: 'digest',
      owner: 'alice',
    })
    const run = await env.docket.runSchedule(s.id)
    try {
      await page.goto('/schedules')
      const row = page.locator(`tr[data-schedule="${s.id}"]`)
      await row.getByText('nightly-digest').waitFor()
      await row.getByText('0 3 * * * (Europe/Berlin)').waitFor()
      assert.equal(await row.locator('.next-runs li').count(), 3)
      await row.locator(`.schedule-run[data-run="${run.id}"] .badge`, { hasText: 'held' }).waitFor()
      await row.getByRole('button', { name: 'Pause schedule nightly-digest' }).click()
      await row.locator('.badge', { hasText: 'paused' }).waitFor()
      assert.equal((await env.docket.getSchedule(s.id)).enabled, false)
      await row.getByRole('button', { name: 'Run schedule nightly-digest now' }).click()
      await row.locator('.last-runs li').nth(1).waitFor()
      assert.equal((await env.docket.getSchedule(s.id)).runs.length, 2)
    } finally {
      await env.docket.deleteSchedule(s.id)
    }
  })

  it('statistics: throughput, failure rate and percentiles, with charts for the last hour and day', async () => {
    const stats = await env.docket.stats()
    await page.goto('/stats')
    const hour = page.locator('section:has(#last-hour)')
    await hour
      .locator('.tile', { hasText: 'completed' })
      .locator('.tile-value', { hasText: String(stats.lastHour.completed) })
      .waitFor()
    await hour.locator('.tile', { hasText: 'failure rate' }).waitFor()
    await hour.locator('.tile', { hasText: 'run time (p50)' }).waitFor()
    await page.locator('section:has(#last-day) canvas').first().waitFor()
    await page.getByLabel('Queue').selectOption('emails')
    await page.waitForURL(/\/stats\?queue=emails$/)
    const emails = await env.docket.stats('emails')
    await hour
      .locator('.tile', { hasText: 'failed' })
      .locator('.tile-value', { hasText: String(emails.lastHour.failed) })
      .waitFor()
  })
})
