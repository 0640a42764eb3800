/**
 * Accessibility and small screens, checked by axe-core (WCAG 2 A and AA,
 * colour contrast included) on every page in light and dark mode, and every
 * page at a phone's width (390 px) without sideways scrolling.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { after, before, describe, it } from 'node:test'
import type { Page } from 'playwright-core'
import { type Env, signIn, startEnv, until } from './harness.js'

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

interface Violation {
  id: string
  impact: string | null
  help: string
  nodes: { target: string[]; failureSummary?: string }[]
}

/** axe's WCAG 2 A/AA violations on the page as it is now. */
async function violations(page: Page): Promise<Violation[]> {
  // Evaluated through the DevTools protocol: the page's CSP (no inline scripts) rightly refuses a script tag.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource)
  return page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: { run: (ctx: Document, o: object) => Promise<{ violations: Violation[] }> }
      }
    ).axe
    const result = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa'] },
    })
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }))
  })
}

const describeViolations = (where: string, list: Violation[]) =>
  list
    .map(
      (v) =>
        `${where}: ${v.id} (${v.impact}) ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(' ')}: ${n.failureSummary?.split('\n').slice(1).join(' ')}`).join('\n')}`,
    )
    .join('\n')

describe('dashboard: accessibility and small screens', () => {
  let env: Env
  let page: Page
  let pages: string[]

  before(async () => {
    env = await startEnv()
    const d = env.docket
    const done = await d.add({ queue: 'emails', type: 'quick', payload: { to: 'a@b.c' } })
    const failed = await d.add({ queue: 'emails', type: 'nope' })
    await d.add({ queue: 'review', type: 'approve' })
    await d.add({ queue: 'documents', type: 'analyse', payload: { gate: 'a11y' } })
    const { job: withFiles } = await d.addWithFiles(
      { queue: 'review', type: 'approve', payload: { doc: 'a' } },
      [
        {
          name: 'a-rather-long-file-name-for-a-phone.pdf',
          mediaType: 'application/pdf',
          data: Buffer.from('%PDF-1.4\n'),
        },
      ],
    )
    const { batch } = await d.addBatch([{ queue: 'emails', type: 'quick' }], { name: 'a11y batch' })
    const schedule = await d.createSchedule({
      name: 'a11y nightly',
      cron: '0 3 * * *',
      queue: 'review',
      type: 'quick',
    })
    await d.runSchedule(schedule.id)
    await d.add({ queue: 'review', type: 'quick', group: 'acme' })
    // A paused queue with jobs ready, for the loud mark (no worker serves it).
    await d.createQueue({ name: 'stuck' })
    await d.add({ queue: 'stuck', type: 'x' })
    await d.pauseQueue('stuck')
    await until(env, done.id, ['completed'])
    await until(env, failed.id, ['failed'])
    pages = [
      '/',
      '/queues/emails',
      '/queues/review',
      '/queues/stuck',
      `/jobs/${done.id}`,
      `/jobs/${failed.id}`,
      `/jobs/${withFiles.id}`,
      '/jobs',
      '/board',
      '/batches',
      `/batches/${batch.id}`,
      '/schedules',
      '/workers',
      '/stats',
    ]
    page = await signIn(env, env.keys.admin)
  })
  after(async () => {
    await env?.close()
  })

  /** Opens `path` and waits until it has drawn its content. */
  async function open(path: string) {
    await page.goto(path)
    await page.locator('main h1').first().waitFor()
    await page.waitForLoadState('networkidle').catch(() => {})
    await page
      .locator('.loading')
      .first()
      .waitFor({ state: 'detached' })
      .catch(() => {})
  }

  for (const scheme of ['light', 'dark'] as const) {
    it(`has no WCAG 2 AA violation on any page in ${scheme} mode (axe-core, contrast included)`, async () => {
      await page.setViewportSize({ width: 1280, height: 860 })
      await page.emulateMedia({ colorScheme: scheme })
      const found: string[] = []
      for (const path of pages) {
        await open(path)
        const list = await violations(page)
        if (list.length > 0) found.push(describeViolations(`${scheme} ${path}`, list))
      }
      assert.equal(found.length, 0, `\n${found.join('\n')}`)
    })
  }

  // The theme chosen in the header against the system's: each must hold on its own.
  for (const [system, theme] of [
    ['light', 'dark'],
    ['dark', 'light'],
  ] as const) {
    it(`has no WCAG 2 AA violation with the ${theme} theme chosen while the system is ${system}`, async () => {
      await page.setViewportSize({ width: 1280, height: 860 })
      await page.emulateMedia({ colorScheme: system })
      await open('/')
      await page.getByLabel('Theme').selectOption(theme)
      const found: string[] = []
      try {
        for (const path of ['/', '/queues/emails', '/queues/stuck', '/workers', pages[4]!, '/jobs']) {
          await open(path)
          const list = await violations(page)
          if (list.length > 0) found.push(describeViolations(`${theme} on ${system} ${path}`, list))
        }
      } finally {
        await page.getByLabel('Theme').selectOption('system')
      }
      assert.equal(found.length, 0, `\n${found.join('\n')}`)
    })
  }

  it('fits a 390 px wide phone: no page scrolls sideways, and the navigation folds away', async () => {
    await page.emulateMedia({ colorScheme: 'light' })
    await page.setViewportSize({ width: 390, height: 844 })
    const wide: string[] = []
    for (const path of pages) {
      await open(path)
      const width = await page.evaluate(() => document.documentElement.scrollWidth)
      if (width > 390) {
        // Name the elements that stick out, so that a failure says what to fix.
        const culprits = await page.evaluate(() =>
          [...document.querySelectorAll('main *')]
            .filter((e) => e.getBoundingClientRect().right > 390 && !e.closest('.table-wrap'))
            .slice(0, 5)
            .map(
              (e) =>
                `${e.tagName.toLowerCase()}.${[...e.classList].join('.')} (${Math.round(e.getBoundingClientRect().right)})`,
            ),
        )
        wide.push(`${path}: ${width} px: ${culprits.join(', ')}`)
      }
    }
    assert.deepEqual(wide, [], 'pages wider than the screen')
    await open('/')
    const header = await page.locator('header').first().boundingBox()
    assert.ok(header && header.height <= 0.12 * 844, `the header takes ${header?.height} px of 844`)
    await page.getByRole('button', { name: /menu/i }).click()
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Workers' }).click()
    await page.locator('main h1', { hasText: 'Workers' }).waitFor()
  })
})
