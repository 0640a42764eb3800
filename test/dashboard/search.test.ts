/**
 * Finding jobs from the dashboard: the search box in every page's header
 * opens a job from its short id, an id prefix or its full id, and turns text
 * or a payload filter into a filtered job list with a count; the list's
 * filters suggest the queues and types of the signed-in user's own jobs.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Page } from 'playwright-core'
import type { Job } from '../../src/index.js'
import { type Env, signIn, startEnv } from './harness.js'

describe('dashboard: the header search box and suggesting filters', () => {
  let env: Env
  let page: Page
  let invoice: Job
  let receipt: Job
  let bobs: Job

  before(async () => {
    env = await startEnv()
    // A queue no worker serves, so its jobs stay as they are.
    await env.docket.createQueue({ name: 'archive' })
    invoice = await env.docket.add({
      queue: 'archive',
      type: 'invoice',
      payload: { customerId: 7, file: 'acme-invoice-0042.pdf' },
      owner: 'alice',
    })
    receipt = await env.docket.add({
      queue: 'archive',
      type: 'receipt',
      payload: { customerId: 8, file: 'acme-receipt-0043.pdf' },
      owner: 'alice',
    })
    bobs = await env.docket.add({
      queue: 'archive',
      type: 'bob-secret-type',
      payload: { customerId: 7, file: 'acme-bob.pdf' },
      owner: 'bob',
    })
    page = await signIn(env, env.keys.alice)
  })

  after(async () => {
    await env?.close()
  })

  const find = async (text: string) => {
    const box = page.locator('header search').getByRole('searchbox', { name: 'Find jobs' })
    await box.fill(text)
    await box.press('Enter')
  }

  it('a pasted short id, id prefix or full id opens the job, from any page', async () => {
    for (const [from, text, id] of [
      ['/batches', invoice.id.slice(-8), invoice.id],
      ['/', receipt.id.slice(0, 35), receipt.id],
      ['/board', invoice.id.toUpperCase(), invoice.id],
    ] as const) {
      await page.goto(from)
      await find(text)
      await page.waitForURL(`**/jobs/${id}`)
      await page.locator('.page-head .mono', { hasText: id }).waitFor()
    }
    // someone else's short id finds nothing: a search for it, with no result
    await find(bobs.id.slice(-8))
    await page.waitForURL(
      (url) => url.pathname === '/jobs' && url.searchParams.get('search') === bobs.id.slice(-8),
    )
    await page.getByTestId('match-count').filter({ hasText: '0 jobs match' }).waitFor()
    assert.equal(await page.locator('tr[data-job]').count(), 0)
  })

  it('text and payload filters from the header give a filtered list with a count', async () => {
    await page.goto('/')
    await find('ACME-INVOICE')
    await page.waitForURL(
      (url) => url.pathname === '/jobs' && url.searchParams.get('search') === 'ACME-INVOICE',
    )
    await page.getByTestId('match-count').filter({ hasText: '1 job match' }).waitFor()
    await page.locator(`tr[data-job="${invoice.id}"]`).waitFor()
    assert.equal(await page.locator('tr[data-job]').count(), 1)
    assert.equal(await page.locator('#filter-search').inputValue(), 'ACME-INVOICE')

    await find('acme')
    await page.getByTestId('match-count').filter({ hasText: '2 jobs match' }).waitFor()
    assert.equal(await page.locator('tr[data-job]').count(), 2, "bob's acme job is not alice's to see")

    await find('payload.customerId = 7')
    await page.waitForURL((url) => url.searchParams.get('where') === 'payload.customerId = 7')
    await page.getByTestId('match-count').filter({ hasText: '1 job match' }).waitFor()
    await page.locator(`tr[data-job="${invoice.id}"]`).waitFor()

    // the list's own fields narrow it further, and a malformed filter says what is wrong
    await page.locator('#filter-where').fill('payload.customerId >')
    await page.getByRole('button', { name: 'Apply' }).click()
    await page.locator('[role="alert"]', { hasText: 'invalid where: expected a value' }).waitFor()
  })

  it('the queue and type filters suggest those of the user’s own jobs', async () => {
    await page.goto('/jobs')
    await page.locator('#suggest-types option[value="invoice"]').waitFor({ state: 'attached' })
    const values = async (list: string) =>
      page
        .locator(`#${list} option`)
        .evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value))
    assert.deepEqual(await values('suggest-types'), ['invoice', 'receipt'])
    assert.deepEqual(await values('suggest-queues'), ['archive'])
    assert.equal(await page.locator('#filter-type').getAttribute('list'), 'suggest-types')
    assert.equal(await page.locator('#filter-queue').getAttribute('list'), 'suggest-queues')

    await page.locator('#filter-type').fill('receipt')
    await page.getByRole('button', { name: 'Apply' }).click()
    await page.waitForURL((url) => url.searchParams.get('type') === 'receipt')
    await page.locator(`tr[data-job="${receipt.id}"]`).waitFor()
    assert.equal(await page.locator('tr[data-job]').count(), 1)

    const admin = await signIn(env, env.keys.admin, '/jobs')
    await admin.locator('#suggest-types option[value="bob-secret-type"]').waitFor({ state: 'attached' })
    await admin.close()
  })
})
