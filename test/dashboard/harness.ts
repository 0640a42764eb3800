/**
 * The dashboard end to end: the built dashboard served by a real server
 * (buildApp on 127.0.0.1, a fresh SQLite file), a real in-process Worker
 * whose handlers the tests can hold at a gate, API keys for an admin and two
 * users, and headless Chromium (Debian's `chromium`, driven by
 * playwright-core). Without Chromium the suite fails, and says how to install it.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import { Docket, type Handler, type Job, Worker } from '../../src/index.js'
import { type App, buildApp } from '../../src/server/app.js'
import { createKey } from '../../src/server/auth.js'
import { freshTarget, type Target } from '../worker/harness.js'

/** Debian's chromium; DOCKET_CHROMIUM, or a `chromium` found on the PATH, when it lives elsewhere. */
export const CHROMIUM =
  process.env.DOCKET_CHROMIUM ??
  (existsSync('/usr/bin/chromium')
    ? '/usr/bin/chromium'
    : spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).stdout.trim() ||
      '/usr/bin/chromium')
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
]
/** Generous: the machine may be busy; nothing here waits a fixed time. */
export const WAIT = 20_000

const root = new URL('../..', import.meta.url).pathname

/** Builds dashboard/dist when it is missing or older than its sources (scripts/build-dashboard.mjs). */
export function ensureDashboardBuilt(): void {
  const r = spawnSync(process.execPath, [join(root, 'scripts/build-dashboard.mjs'), '--quiet'], {
    cwd: root,
    encoding: 'utf8',
  })
  assert.equal(r.status, 0, `the dashboard does not build:\n${r.stdout}\n${r.stderr}`)
  assert.ok(
    existsSync(join(root, 'dashboard/dist/index.html')),
    'dashboard/dist/index.html is missing after the build',
  )
}

export function assertChromium(): void {
  if (existsSync(CHROMIUM)) return
  throw new Error(
    `Chromium is not installed at ${CHROMIUM}; the dashboard tests need it. Install it with\n` +
      '  apt-get update && apt-get install -y chromium\n' +
      '(as .ci/run does), or point DOCKET_CHROMIUM at a Chromium binary. Never `npx playwright install`.',
  )
}

/** A gate a handler waits at until the test opens it; closing the worker aborts the wait. */
export class Gates {
  #open = new Map<string, () => void>()
  #waiting = new Map<string, Promise<void>>()

  wait(name: string, signal: AbortSignal): Promise<void> {
    let promise = this.#waiting.get(name)
    if (!promise) {
      promise = new Promise<void>((resolve) => this.#open.set(name, resolve))
      this.#waiting.set(name, promise)
    }
    return Promise.race([
      promise,
      new Promise<void>((_, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
      ),
    ])
  }

  open(name: string): void {
    if (!this.#waiting.has(name)) this.#waiting.set(name, Promise.resolve())
    this.#open.get(name)?.()
  }
}

export interface Env {
  docket: Docket
  app: App
  base: string
  keys: { admin: string; alice: string; bob: string; worker: string }
  gates: Gates
  worker: Worker
  context: BrowserContext
  close(): Promise<void>
}

/** The job types the test worker runs. */
function handlers(gates: Gates): Record<string, Handler> {
  const tried = new Set<string>()
  return {
    /** Three steps, each held at a gate named `${payload.gate}:${step}` until the test opens it. */
    analyse: async (job, ctx) => {
      const gate = (job.payload as { gate?: string }).gate
      const stages: [string, number][] = [
        ['extract', 30],
        ['classify', 60],
        ['summarise', 90],
      ]
      for (const [step, percent] of stages) {
        await ctx.step(step, async () => {
          await ctx.progress(percent - 20, `${step}: working`)
          if (gate) await gates.wait(`${gate}:${step}`, ctx.signal)
          await ctx.progress(percent, `${step}: done`)
        })
      }
      return { pages: 3, confidence: 0.93, summary: 'an invoice for 1,500 EUR' }
    },
    /** Done at once. */
    quick: async (_job, ctx) => {
      await ctx.step('send', () => ctx.progress(100, 'sent'))
      return { sent: true }
    },
    /** Fails the first time it runs, then works: retrying it from the dashboard completes it. */
    flaky: async (job, ctx) => {
      await ctx.step('fetch', async () => {
        if (!tried.has(job.id)) {
          tried.add(job.id)
          throw new Error('upstream answered 503: try again later')
        }
      })
      return { fetched: true }
    },
  }
}

/** Starts everything; `handlers` adds job types to the worker (the screenshots use the document pipeline). */
export async function startEnv(options: { handlers?: Record<string, Handler> } = {}): Promise<Env> {
  assertChromium()
  ensureDashboardBuilt()
  const target: Target = await freshTarget('sqlite')
  const docket = await Docket.open(target.url)
  const app = await buildApp({ docket })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const keys = {
    admin: (await createKey(docket, 'root', 'admin')).key,
    alice: (await createKey(docket, 'alice', 'user')).key,
    bob: (await createKey(docket, 'bob', 'user')).key,
    worker: (await createKey(docket, 'gpu-box', 'worker')).key,
  }
  await docket.createQueue({ name: 'documents', description: 'PDF analysis', concurrency: 4 })
  await docket.createQueue({ name: 'emails', maxAttempts: 1 })
  await docket.createQueue({ name: 'review', mode: 'manual' })
  // A worker that stopped sending heartbeats long ago, so the pages have a lost one to show.
  await docket.workers.register({
    id: 'ghost-1',
    host: 'old-box',
    pid: 4242,
    kind: 'gpu',
    capabilities: ['ocr'],
    queues: ['documents'],
    concurrency: 2,
  })
  // (marked lost once the clock has moved past its registration)
  while (!(await docket.workers.markLost(0)).includes('ghost-1')) await new Promise((r) => setTimeout(r, 5))
  const gates = new Gates()
  const worker = await new Worker(docket, {
    id: 'test-worker',
    queues: ['documents', 'emails', 'review'],
    handlers: { ...handlers(gates), ...options.handlers },
    concurrency: 4,
    capabilities: ['pdf'],
    shutdownGraceMs: 100,
  }).start()

  const profile = mkdtempSync(join(tmpdir(), 'docket-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 860 },
    baseURL: base,
  })
  context.setDefaultTimeout(WAIT)
  const env: Env = {
    docket,
    app,
    base,
    keys,
    gates,
    worker,
    context,
    async close() {
      await context.close().catch(() => {})
      rmSync(profile, { recursive: true, force: true })
      await worker.close()
      await env.app.close() // a test may have restarted the server: close the one running now
      await docket.close()
      await target.cleanup()
    },
  }
  return env
}

/** A new tab signed in with `key` (through the sign-in form), showing the overview. */
export async function signIn(env: Env, key: string, path = '/'): Promise<Page> {
  await env.context.clearCookies()
  const page = await env.context.newPage()
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`))
  await page.goto(path)
  await page.getByLabel('API key').fill(key)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('button', { name: 'Sign out' }).waitFor()
  return page
}

/** Waits until the page's live feed is connected. */
export async function live(page: Page): Promise<void> {
  await page.locator('[data-live="live"]').waitFor()
}

/** Waits until the job reaches one of `statuses` (through the library, not the page). */
export async function until(env: Env, id: string, statuses: Job['status'][]): Promise<Job> {
  const deadline = Date.now() + 3 * WAIT
  for (;;) {
    const job = await env.docket.getJob(id)
    if (statuses.includes(job.status)) return job
    if (Date.now() > deadline) assert.fail(`job ${id} is ${job.status}, not ${statuses.join(' or ')}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
