/**
 * Writes docs/images/dashboard-*.png: the dashboard's main pages over a
 * fresh database with the document pipeline and a few other queues at work,
 * in headless Chromium (the same setup as test/dashboard).
 *
 *   npx tsx scripts/screenshots.ts
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { handlers as pipeline } from '../examples/document-pipeline/pipeline.js'
import type { Handler, Job } from '../src/index.js'
import { live, signIn, startEnv, until } from '../test/dashboard/harness.js'

const root = new URL('..', import.meta.url).pathname
const out = join(root, 'docs', 'images')
const samples = join(root, 'examples', 'document-pipeline', 'samples')

const email: Handler = async (_job, ctx) => {
  await ctx.step('render', () => ctx.progress(50, 'rendered'))
  await ctx.step('send', () => ctx.progress(100, 'sent'))
  return { delivered: true }
}
const feed: Handler = async (_job, ctx) => {
  await ctx.step('fetch', async () => {
    throw new Error('GET https://example.com/feed.xml answered 503 Service Unavailable')
  })
}

const env = await startEnv({
  handlers: { process: pipeline.process as Handler, 'send-email': email, approve: email, 'sync-feed': feed },
})
try {
  const d = env.docket
  await d.updateQueue('emails', { description: 'transactional email' })
  await d.updateQueue('review', { description: 'documents a person approves before they are filed' })

  const files: [string, string][] = [
    ['invoice.pdf', 'application/pdf'],
    ['contract.pdf', 'application/pdf'],
    ['receipt.pdf', 'application/pdf'],
    ['letter.txt', 'text/plain'],
  ]
  const docs: Job[] = []
  for (let i = 0; i < 8; i++) {
    const [name, mediaType] = files[i % files.length]!
    const data = await readFile(join(samples, name))
    const owner = i % 2 ? 'bob' : 'alice'
    docs.push(
      (await d.addWithFiles({ queue: 'documents', type: 'process', owner }, [{ name, mediaType, data }])).job,
    )
  }
  const batch = await d.addBatch(
    Array.from({ length: 12 }, (_, i) => ({
      queue: 'emails',
      type: 'send-email',
      payload: { to: `customer${i + 1}@example.com`, template: 'welcome' },
    })),
    { name: 'welcome-emails', owner: 'alice' },
  )
  const failing = [
    await d.add({ queue: 'emails', type: 'sync-feed', payload: { url: 'https://example.com/feed.xml' } }),
    await d.add({ queue: 'emails', type: 'sync-feed', payload: { url: 'https://example.org/rss' } }),
  ]
  for (let i = 0; i < 3; i++)
    await d.add({
      queue: 'emails',
      type: 'send-email',
      payload: { to: `later${i}@example.com` },
      delayMs: 3_600_000,
    })
  for (let i = 0; i < 4; i++)
    await d.add({
      queue: 'review',
      type: 'approve',
      payload: { document: 100 + i },
      priority: i === 0 ? 'high' : 'normal',
    })
  for (const j of [...docs, ...batch.jobs]) await until(env, j.id, ['completed'])
  for (const j of failing) await until(env, j.id, ['failed'])

  // Two long analyses left running at different steps, and one waiting behind them.
  const running = [
    await d.add({
      queue: 'documents',
      type: 'analyse',
      payload: { file: 'annual-report.pdf', gate: 'a' },
      owner: 'alice',
    }),
    await d.add({
      queue: 'documents',
      type: 'analyse',
      payload: { file: 'board-minutes.pdf', gate: 'b' },
      owner: 'bob',
    }),
  ]
  env.gates.open('b:extract')
  for (const j of running) await until(env, j.id, ['active'])
  await d.pauseQueue('review')
  // A queue paused with jobs ready, for the overview's loud mark.
  await d.createQueue({ name: 'exports', description: 'nightly CSV exports' })
  for (let i = 0; i < 3; i++) await d.add({ queue: 'exports', type: 'export', payload: { day: i + 1 } })
  await d.pauseQueue('exports')

  const page = await signIn(env, env.keys.admin)
  const shot = async (name: string, path: string, ready: string) => {
    await page.goto(path)
    await live(page)
    await page.locator(ready).first().waitFor()
    await page.waitForLoadState('networkidle')
    await page.screenshot({ path: join(out, `dashboard-${name}.png`), fullPage: true })
    console.log(`docs/images/dashboard-${name}.png`)
  }
  await shot('overview', '/', '.chip')
  await shot('queue', '/queues/documents', 'tbody tr')
  await shot('queue-health', '/queues/emails', '.queue-health .top-errors tbody tr')
  await shot('job', `/jobs/${docs[0]!.id}`, '.timeline .step')
  await shot('board', '/board?queue=documents', '.job-card')
  await shot('workers', '/workers', 'tr.worker-lost')
  await shot('batches', '/batches', 'li.batch')
  await shot('stats', '/stats', '.tile')
  await page.emulateMedia({ colorScheme: 'dark' })
  await shot('overview-dark', '/', '.chip')
  // A phone: the header folds into a menu, tables scroll within themselves.
  await page.emulateMedia({ colorScheme: 'light' })
  await page.setViewportSize({ width: 390, height: 844 })
  await shot('job-mobile', `/jobs/${docs[0]!.id}`, '.timeline .step')
} finally {
  await env.close()
}
