/**
 * The dashboard under its Content-Security-Policy, in Chromium: every page,
 * the charts, the live feed and an action work with no policy violation;
 * /docs renders under the same policy; no other page can frame the
 * dashboard; the session cookie holds a session id, not the key, and
 * signing out ends the session on the server, not just in the browser.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Page } from 'playwright-core'
import { DOCS_CSP, PAGE_CSP } from '../../src/server/security-headers.js'
import { type Env, live, signIn, startEnv, until, WAIT } from './harness.js'

/** Records every CSP violation and console error of the page, across its navigations. */
function watch(page: Page): string[] {
  const problems: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(m.text())
  })
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
  return problems
}

/** Violations the page's document saw (reported to it as securitypolicyviolation events). */
const violations = (page: Page) =>
  page.evaluate(() => (window as { cspViolations?: string[] }).cspViolations ?? [])

describe('dashboard: security headers and sessions in Chromium', () => {
  let env: Env
  before(async () => {
    env = await startEnv()
    await env.context.addInitScript(() => {
      const seen: string[] = []
      ;(window as { cspViolations?: string[] }).cspViolations = seen
      document.addEventListener('securitypolicyviolation', (e) =>
        seen.push(`${e.violatedDirective} ${e.blockedURI}`),
      )
    })
  })
  after(async () => env?.close())

  it('works on every page under its CSP: charts, the live feed and an action, with no violation', async () => {
    const done = await env.docket.add({ queue: 'emails', type: 'quick' })
    await until(env, done.id, ['completed'])
    const page = await signIn(env, env.keys.admin)
    const problems = watch(page)
    const response = await page.goto('/')
    assert.equal(response?.headers()['content-security-policy'], PAGE_CSP)
    assert.equal(response?.headers()['x-frame-options'], 'DENY')
    assert.equal(response?.headers()['x-content-type-options'], 'nosniff')
    await live(page) // a WebSocket under connect-src 'self'
    await page.locator('.uplot').first().waitFor() // the throughput chart
    for (const [path, ready] of [
      ['/queues/emails', page.getByRole('button', { name: 'Pause' })],
      ['/jobs', page.locator(`tr[data-job="${done.id}"]`)],
      [`/jobs/${done.id}`, page.locator('#result-title ~ .json', { hasText: '"sent": true' })],
      ['/board', page.getByRole('heading', { name: 'Board' })],
      ['/batches', page.getByRole('heading', { name: 'Batches' })],
      ['/workers', page.getByRole('heading', { name: 'Workers' })],
      ['/stats', page.locator('.uplot').first()],
    ] as const) {
      await page.goto(path)
      await ready.waitFor()
      assert.deepEqual(await violations(page), [], `CSP violations on ${path}`)
    }
    // A change: the request carries the session's CSRF token and the page's Origin.
    await page.goto('/queues/emails')
    await page.getByRole('button', { name: 'Pause' }).click()
    await page.locator('.page-sub .badge', { hasText: 'paused' }).waitFor()
    assert.equal((await env.docket.getQueue('emails')).status, 'paused')
    await page.getByRole('button', { name: 'Resume' }).click()
    await page.locator('.page-sub .badge', { hasText: 'paused' }).waitFor({ state: 'detached' })
    assert.deepEqual(await violations(page), [])
    assert.deepEqual(problems, [])
    await page.close()
  })

  it('renders /docs under its CSP', async () => {
    const page = await env.context.newPage()
    const problems = watch(page)
    const response = await page.goto('/docs')
    assert.equal(response?.headers()['content-security-policy'], DOCS_CSP)
    await page.locator('.swagger-ui .info .title', { hasText: 'Docket API' }).waitFor()
    await page.locator('.opblock-tag', { hasText: 'keys' }).waitFor()
    assert.deepEqual(await violations(page), [])
    assert.deepEqual(problems, [])
    await page.close()
  })

  it('cannot be framed by another page', async () => {
    const page = await env.context.newPage()
    await page.goto('about:blank')
    await page.setContent(`<iframe id="f" src="${env.base}/" width="600" height="400"></iframe>`)
    // Chromium replaces a refused frame with its error page: the dashboard never runs inside it.
    const deadline = Date.now() + WAIT
    let framed: string | null = null
    for (;;) {
      const frame = page.frames().find((f) => f !== page.mainFrame())
      framed = frame
        ? await frame
            .evaluate(() => (document.querySelector('#api-key') ? 'dashboard' : location.href))
            .catch(() => 'blocked')
        : null
      if (framed !== null && framed !== 'about:blank') break
      if (Date.now() > deadline) break
      await new Promise((r) => setTimeout(r, 50))
    }
    assert.notEqual(framed, 'dashboard', 'the dashboard rendered inside a frame')
    assert.ok(framed === 'blocked' || /^chrome-error:/.test(framed ?? ''), `the frame shows ${framed}`)
    await page.close()
  })

  it('keeps a session id in an httpOnly cookie, and signing out ends the session on the server', async () => {
    const page = await signIn(env, env.keys.alice)
    const cookies = await env.context.cookies()
    const session = cookies.find((c) => c.name === 'docket_session')
    assert.ok(session, JSON.stringify(cookies.map((c) => c.name)))
    assert.equal(session.httpOnly, true)
    assert.equal(session.sameSite, 'Strict')
    assert.ok(!session.value.includes(env.keys.alice), 'the cookie holds the API key')
    assert.ok(session.expires > Date.now() / 1000, 'the cookie expires')
    assert.equal(await page.evaluate(() => document.cookie), '', 'a script can read the cookie')
    const replay = () =>
      fetch(`${env.base}/api/v1/jobs`, { headers: { cookie: `docket_session=${session.value}` } })
    assert.equal((await replay()).status, 200)

    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByText('You are signed out.').waitFor()
    assert.equal((await replay()).status, 401, 'the cookie still opens a session after signing out')
    await page.reload()
    await page.getByLabel('API key').waitFor()

    // Signing in again starts a new session.
    await page.getByLabel('API key').fill(env.keys.alice)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('button', { name: 'Sign out' }).waitFor()
    await page.close()
  })
})
