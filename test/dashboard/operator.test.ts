/**
 * The operator's dashboard, issue 18 items 8-10: queue health first (latency,
 * 1- and 5-minute rates, backlog trend, the loud mark on a paused queue with
 * jobs ready, top errors as one line per error); workers named by id with a
 * heartbeat age that ticks, stopped and lost ones removable; and correctness:
 * elapsed times by the server's clock when the browser's is hours off, a page
 * that failed during an outage loading again once the feed is back, lists
 * with total counts and Finished, Duration and Worker columns, one absolute
 * time format with its zone, and a theme chosen beside "follow the system".
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Page } from 'playwright-core'
import type { Job } from '../../src/index.js'
import { buildApp } from '../../src/server/app.js'
import { type Env, live, signIn, startEnv, until } from './harness.js'

class DeployError extends Error {
  override name = 'DeployError'
}

describe('dashboard: the operator’s view (health, workers, correctness)', () => {
  let env: Env
  let page: Page
  let done: Job
  const failures: Job[] = []

  before(async () => {
    env = await startEnv({
      handlers: {
        deploy: async () => {
          throw new DeployError('column "tenant_id" does not exist')
        },
      },
    })
    const d = env.docket
    for (let i = 0; i < 3; i++)
      failures.push(await d.add({ queue: 'emails', type: 'deploy', payload: { i } }))
    done = await d.add({ queue: 'emails', type: 'quick', payload: { to: 'ops@example.com' } })
    for (const j of failures) await until(env, j.id, ['failed'])
    await until(env, done.id, ['completed'])
    // A queue no worker serves, paused with jobs ready: nothing will ever move.
    await d.createQueue({ name: 'stuck' })
    await d.add({ queue: 'stuck', type: 'x' })
    await d.add({ queue: 'stuck', type: 'x' })
    await d.pauseQueue('stuck')
    page = await signIn(env, env.keys.admin)
  })

  after(async () => {
    env?.gates.open('clock:extract')
    await env?.close()
  })

  it('overview: each queue’s latency, rates and backlog trend, and a loud mark on a paused queue with jobs ready', async () => {
    await page.goto('/')
    const stuck = page.locator('tr[data-queue="stuck"]')
    await stuck.locator('[data-testid="stalled"]', { hasText: 'paused with 2 jobs ready' }).waitFor()
    assert.notEqual(await stuck.locator('[data-testid="latency"]').textContent(), 'none')
    const emails = page.locator('tr[data-queue="emails"]')
    await emails.locator('[data-testid="health-summary"]', { hasText: '1 min' }).waitFor()
    assert.equal(await emails.locator('[data-testid="stalled"]').count(), 0, 'an active queue is not stalled')
    await emails.locator('.health-summary .error-text', { hasText: 'failed' }).first().waitFor()
    await emails.locator('[data-testid="trend"]').waitFor()
  })

  it('queue page: the health card, and one bad deploy is one line of the top errors, linked to its latest job', async () => {
    await page.goto('/queues/emails')
    const card = page.locator('section.queue-health')
    await card.locator('h2', { hasText: 'Health' }).waitFor()
    const rows = card.locator('table.top-errors tbody tr')
    await rows.first().waitFor()
    assert.equal(await rows.count(), 1, 'three failures with one message are one line')
    const line = rows.first()
    assert.equal((await line.locator('td').first().textContent())?.trim(), '3')
    await line.locator('td', { hasText: 'DeployError: column "tenant_id" does not exist' }).waitFor()
    // They ran side by side: the latest is whichever finished last.
    const finished = await Promise.all(failures.map((j) => env.docket.getJob(j.id)))
    const last = Math.max(...finished.map((j) => j.finishedAt!.getTime()))
    const latest = finished.filter((j) => j.finishedAt!.getTime() === last).map((j) => `/jobs/${j.id}`)
    const shown = await line.locator('td').nth(2).locator('a').getAttribute('href')
    assert.ok(latest.includes(shown!), `${shown} is not the latest failure (${latest})`)
    await line.locator('td').first().locator('a').click()
    await page.waitForURL(/state=failed/)
    for (const j of failures) await page.locator(`tr[data-job="${j.id}"]`).waitFor()

    await page.goto('/queues/stuck')
    await page.locator('[data-testid="stalled-box"]', { hasText: 'Paused with jobs ready' }).waitFor()
    await env.docket.resumeQueue('stuck')
    await page.locator('[data-testid="stalled-box"]').waitFor({ state: 'detached' })
    await env.docket.pauseQueue('stuck')
  })

  it('workers: named by id, a heartbeat age that ticks, and stopped or lost ones removed', async () => {
    await page.goto('/')
    await page.locator('.chip[data-worker="test-worker"] strong', { hasText: 'test-worker' }).waitFor()
    await page.goto('/workers')
    const ghost = page.locator('tr[data-worker="ghost-1"]')
    await ghost.locator('td.mono', { hasText: 'ghost-1' }).waitFor()
    const age = async () =>
      Number(await ghost.locator('[data-heartbeat-age]').getAttribute('data-heartbeat-age'))
    const first = await age()
    await page.waitForFunction(
      (a) =>
        Number(
          document
            .querySelector('tr[data-worker="ghost-1"] [data-heartbeat-age]')
            ?.getAttribute('data-heartbeat-age'),
        ) >=
        a + 1500,
      first,
    )
    assert.ok((await age()) > first, 'the age keeps counting without a reload')
    assert.equal(
      await page
        .locator('tr[data-worker="test-worker"]')
        .getByRole('button', { name: /Remove/ })
        .count(),
      0,
      'a worker that is up cannot be removed',
    )
    await page.getByRole('button', { name: 'Remove worker ghost-1' }).click()
    await ghost.waitFor({ state: 'detached' })
    assert.equal(await env.docket.workers.get('ghost-1'), null)
  })

  it('lists: the total count, and Finished, Duration and Worker columns', async () => {
    await page.goto('/queues/emails')
    const row = page.locator(`tr[data-job="${done.id}"]`)
    await row.waitFor()
    const headers = await page.locator('table.jobs thead th').allTextContents()
    for (const h of ['Finished', 'Duration', 'Worker'])
      assert.ok(headers.includes(h), `no ${h} column: ${headers}`)
    await page.locator('[data-testid="total-count"]', { hasText: 'of 4 jobs' }).waitFor()
    const cells = await row.locator('td').allTextContents()
    const col = (name: string) => cells[headers.indexOf(name)]!
    assert.equal(col('Worker'), 'test-worker')
    assert.match(col('Duration'), /\d+(\.\d)? (ms|s)$/)
    assert.match(col('Finished'), /ago|just now/)
  })

  it('one absolute time format, with the time zone', async () => {
    await page.goto(`/jobs/${done.id}`)
    const title = await page.locator('time').first().getAttribute('title')
    assert.match(title ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (UTC|GMT[+-]?[\d:]*|[A-Z]{2,5})$/)
    const attempt = await page
      .locator('.attempts tbody tr td')
      .filter({ hasText: /^\d{4}-/ })
      .first()
      .textContent()
    assert.match(attempt ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+$/)
  })

  it('a theme toggle beside “follow the system”, kept across visits', async () => {
    await page.emulateMedia({ colorScheme: 'light' })
    await page.goto('/')
    const theme = page.getByLabel('Theme')
    assert.equal(await theme.inputValue(), 'system')
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor)
    assert.equal(await background(), 'rgb(246, 247, 249)')
    await theme.selectOption('dark')
    assert.equal(await background(), 'rgb(17, 20, 24)')
    await page.reload()
    await page.getByLabel('Theme').waitFor()
    assert.equal(await page.getByLabel('Theme').inputValue(), 'dark')
    assert.equal(await background(), 'rgb(17, 20, 24)', 'the choice outlives a reload')
    // Charts draw their own colours: resolved from the theme's, and drawn again when it changes.
    const marker = () =>
      page.evaluate(() => {
        const m = document.querySelector('.u-legend .u-series:nth-child(2) .u-marker')
        return m ? getComputedStyle(m).borderColor : null
      })
    await page.locator('.u-legend .u-marker').first().waitFor()
    assert.equal(await marker(), 'rgb(76, 194, 134)', 'the completed line in dark green')
    await page.getByLabel('Theme').selectOption('light')
    await page.waitForFunction(() => {
      const m = document.querySelector('.u-legend .u-series:nth-child(2) .u-marker')
      return m && getComputedStyle(m).borderColor === 'rgb(23, 112, 63)'
    })
    await page.getByLabel('Theme').selectOption('dark')
    await page.emulateMedia({ colorScheme: 'dark' })
    await page.getByLabel('Theme').selectOption('light')
    assert.equal(await background(), 'rgb(246, 247, 249)', 'light even when the system is dark')
    await page.getByLabel('Theme').selectOption('system')
    assert.equal(await background(), 'rgb(17, 20, 24)', 'following the system again')
    await page.emulateMedia({ colorScheme: 'light' })
  })

  it('a page whose load failed during an outage loads again once the feed is live', async () => {
    await page.goto('/')
    await live(page)
    await env.app.close()
    await page.locator('[data-live="offline"], [data-live="connecting"]').first().waitFor()
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Batches' }).click()
    await page.locator('main .error-box', { hasText: 'Could not load' }).waitFor()
    env.app = await buildApp({ docket: env.docket })
    await env.app.listen({ host: '127.0.0.1', port: Number(new URL(env.base).port) })
    await live(page)
    await page.locator('main h1', { hasText: 'Batches' }).waitFor()
    await page.locator('main .error-box').waitFor({ state: 'detached' })
  })

  // Last: the browser's clock stays two hours behind for the rest of this context.
  it('a running step’s duration counts by the server’s clock when the browser’s is two hours behind', async () => {
    const running = await env.docket.add({ queue: 'documents', type: 'analyse', payload: { gate: 'clock' } })
    await until(env, running.id, ['active'])
    await env.context.clock.install({ time: Date.now() - 2 * 3600_000 })
    const skewed = await signIn(env, env.keys.admin, `/jobs/${running.id}`)
    try {
      assert.ok(
        (await skewed.evaluate(() => Date.now())) < Date.now() - 3600_000,
        'the browser clock is behind',
      )
      const step = skewed.locator('.timeline .step-running .step-duration')
      await step.waitFor()
      const read = async () => (await step.textContent()) ?? ''
      assert.doesNotMatch(await read(), /-/, `a negative duration: ${await read()}`)
      assert.match(await read(), /^\d+(\.\d)? (ms|s)$/, `not seconds: ${await read()}`)
      await skewed.goto('/queues/documents')
      const row = skewed.locator(`tr[data-job="${running.id}"]`)
      await row.waitFor()
      const headers = await skewed.locator('table.jobs thead th').allTextContents()
      const cell = (await row.locator('td').allTextContents())[headers.indexOf('Duration')]!
      assert.match(cell, /^\d+(\.\d)? (ms|s)$/, `the list's running duration: ${cell}`)
      await skewed.locator(`tr[data-job="${running.id}"] time`).first().waitFor()
      assert.match((await row.locator('time').first().textContent()) ?? '', /ago|just now/, 'not "in 2 h"')
    } finally {
      env.gates.open('clock:extract')
      env.gates.open('clock:classify')
      env.gates.open('clock:summarise')
      await skewed.close()
    }
  })
})
