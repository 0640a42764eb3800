/**
 * Live updates and access: a running job's progress bar moves on the queue
 * page and the job page as the worker reports, with no reload; a user key
 * sees only its own jobs and is not offered what it may not do; a worker key
 * cannot read the dashboard; a wrong key is refused; signing out works.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type Env, live, signIn, startEnv, until } from './harness.js'

describe('dashboard: live updates and access', () => {
  let env: Env
  before(async () => {
    env = await startEnv()
  })
  after(async () => env?.close())

  it("moves a running job's progress bar as the worker reports, without a reload", async () => {
    const job = await env.docket.add({ queue: 'documents', type: 'analyse', payload: { gate: 'live' } })
    await until(env, job.id, ['active'])
    const page = await signIn(env, env.keys.admin, '/queues/documents')
    await live(page)
    await page.evaluate(() => {
      ;(window as { stayed?: boolean }).stayed = true
    })
    const inList = page.locator(`tr[data-job="${job.id}"] [role="progressbar"]`)
    await page.locator(`tr[data-job="${job.id}"] [role="progressbar"][aria-valuenow="10"]`).waitFor()

    env.gates.open('live:extract')
    await page.locator(`tr[data-job="${job.id}"] [role="progressbar"][aria-valuenow="40"]`).waitFor()
    assert.equal(await inList.count(), 1)

    await page.locator(`a[href="/jobs/${job.id}"]`).click()
    await page.waitForURL(`**/jobs/${job.id}`)
    const bar = page.locator('section[aria-label="Progress"] [role="progressbar"]')
    await page.locator('section[aria-label="Progress"] [aria-valuenow="40"]').waitFor()
    await page.locator('.timeline .step-running .step-name', { hasText: 'classify' }).waitFor()

    env.gates.open('live:classify')
    await page.locator('section[aria-label="Progress"] [aria-valuenow="70"]').waitFor()
    assert.match((await bar.getAttribute('aria-valuetext')) ?? '', /summarise/)
    await page.locator('.timeline .step-running .step-name', { hasText: 'summarise' }).waitFor()

    env.gates.open('live:summarise')
    await page.locator('h1 .badge', { hasText: 'completed' }).waitFor()
    await page.locator('#result-title ~ .json', { hasText: '"pages": 3' }).waitFor()
    assert.equal(
      await page.evaluate(() => (window as { stayed?: boolean }).stayed),
      true,
      'the page reloaded',
    )
    await page.close()
  })

  it('stays live over Server-Sent Events when WebSockets are not available', async () => {
    const page = await signIn(env, env.keys.admin)
    await page.addInitScript(() => {
      ;(window as { WebSocket?: unknown }).WebSocket = undefined
    })
    await page.goto('/queues/emails')
    await live(page)
    assert.equal(await page.evaluate(() => typeof WebSocket), 'undefined')
    await env.docket.pauseQueue('emails')
    await page.locator('.page-sub .badge', { hasText: 'paused' }).waitFor()
    await env.docket.resumeQueue('emails')
    await page.locator('.page-sub .badge', { hasText: 'paused' }).waitFor({ state: 'detached' })
    await page.close()
  })

  it('works from the keyboard: sign in, skip link, navigation, visible focus', async () => {
    await env.context.clearCookies()
    const page = await env.context.newPage()
    await page.goto('/')
    await page.getByLabel('API key').waitFor()
    await page.keyboard.press('Tab')
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'api-key')
    await page.keyboard.type(env.keys.admin)
    await page.keyboard.press('Enter')
    await page.getByRole('button', { name: 'Sign out' }).waitFor()
    const focused = () => page.evaluate(() => document.activeElement?.textContent?.trim())
    await page.keyboard.press('Tab')
    assert.equal(await focused(), 'Skip to content')
    await page.keyboard.press('Tab')
    await page.keyboard.press('Tab')
    assert.equal(await focused(), 'Overview')
    const outline = await page.evaluate(
      () => getComputedStyle(document.activeElement as Element).outlineStyle,
    )
    assert.equal(outline, 'solid', 'the focused link shows a focus ring')
    await page.keyboard.press('Tab')
    assert.equal(await focused(), 'Jobs')
    await page.keyboard.press('Enter')
    await page.waitForURL(/\/jobs$/)
    await page.getByRole('heading', { name: 'Jobs' }).waitFor()
    await page.close()
  })

  it('shows a user only their own jobs and batches, and no admin controls', async () => {
    const mine = await env.docket.add({
      queue: 'emails',
      type: 'quick',
      owner: 'alice',
      ...{ delayMs: 3_600_000 },
    })
    const theirs = await env.docket.add({
      queue: 'emails',
      type: 'quick',
      owner: 'bob',
      ...{ delayMs: 3_600_000 },
    })
    await env.docket.addBatch([{ queue: 'emails', type: 'quick', delayMs: 3_600_000 }], {
      name: 'alices',
      owner: 'alice',
    })
    await env.docket.addBatch([{ queue: 'emails', type: 'quick', delayMs: 3_600_000 }], {
      name: 'bobs',
      owner: 'bob',
    })
    const page = await signIn(env, env.keys.alice, '/jobs')
    await page.getByRole('heading', { name: 'Your jobs' }).waitFor()
    await page.locator(`tr[data-job="${mine.id}"]`).waitFor()
    assert.equal(await page.locator(`tr[data-job="${theirs.id}"]`).count(), 0)
    assert.equal(await page.getByRole('columnheader', { name: 'Owner' }).count(), 0)

    const nav = page.getByRole('navigation', { name: 'Main' })
    await nav.getByRole('link', { name: 'Batches' }).waitFor()
    assert.equal(await nav.getByRole('link', { name: 'Workers' }).count(), 0)
    assert.equal(await nav.getByRole('link', { name: 'Statistics' }).count(), 0)

    await page.goto('/queues/emails')
    await page.locator(`tr[data-job="${mine.id}"]`).waitFor()
    assert.equal(await page.locator(`tr[data-job="${theirs.id}"]`).count(), 0)
    assert.equal(await page.getByRole('button', { name: 'Pause' }).count(), 0)
    assert.equal(await page.getByLabel('Concurrency limit').count(), 0)

    await page.goto(`/jobs/${mine.id}`)
    await page.getByRole('button', { name: 'Cancel' }).waitFor()
    await page.goto(`/jobs/${theirs.id}`)
    await page.getByRole('heading', { name: 'Job not found' }).waitFor()

    await page.goto('/batches')
    await page.getByRole('link', { name: 'alices' }).waitFor()
    assert.equal(await page.getByRole('link', { name: 'bobs' }).count(), 0)

    await page.goto('/workers')
    await page.getByRole('heading', { name: 'Not found' }).waitFor()
    await page.close()
  })

  it('refuses a wrong key, and tells a worker key it cannot read the dashboard', async () => {
    await env.context.clearCookies()
    const page = await env.context.newPage()
    await page.goto('/')
    await page.getByLabel('API key').fill('dk_wrong0_xxxxxxxxxxxxxxxxxxxxxxxxxx')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('alert').filter({ hasText: /key/i }).waitFor()
    assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0)
    await page.close()

    const worker = await signIn(env, env.keys.worker)
    await worker.getByRole('alert').filter({ hasText: 'A worker key' }).waitFor()
    await worker.close()
  })

  it('signs out: the cookie is gone and the sign-in page stays after a reload', async () => {
    const page = await signIn(env, env.keys.admin, '/workers')
    await page.getByRole('heading', { name: 'Workers' }).waitFor()
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByLabel('API key').waitFor()
    await page.getByText('You are signed out.').waitFor()
    assert.equal((await page.request.get('/api/v1/session')).status(), 401)
    await page.reload()
    await page.getByLabel('API key').waitFor()
    assert.equal(await page.getByRole('heading', { name: 'Workers' }).count(), 0)
    assert.deepEqual(await env.context.cookies(), [])
    await page.close()
  })
})
