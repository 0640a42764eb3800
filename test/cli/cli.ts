/**
 * The `docket` command on a database directly and through a real server:
 * every command's happy path, and its bad input (a clear message, the
 * documented exit code, never a stack trace). Command lines run in process
 * through the program's `run` (src/cli/program.ts), as the bin runs them;
 * one test per driver spawns the real bin, for stdin and the exit status a
 * shell sees.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { run } from '../../src/cli/program.js'
import { Docket } from '../../src/index.js'
import { buildApp } from '../../src/server/app.js'
import { createKey } from '../../src/server/auth.js'
import { type Driver, freshTarget, type Target } from '../worker/harness.js'

const ROOT = join(import.meta.dirname, '..', '..')
const SAMPLES = join(ROOT, 'examples', 'document-pipeline', 'samples')

interface Result {
  code: number | null
  stdout: string
  stderr: string
}

/** The environment every command line starts from: no connection but the one it is given. */
const CLEAN_ENV = { DOCKET_DATABASE_URL: '', DOCKET_URL: '', DOCKET_KEY: '', DOCKET_PIPELINE_PACE_MS: '0' }

/**
 * Runs a command line in this process and catches what it prints. `env` is
 * set for the run and put back after (the tests of a file run one at a time).
 */
export async function docket(
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<Result> {
  const env = { ...CLEAN_ENV, ...options.env }
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]))
  Object.assign(process.env, env)
  let stdout = ''
  let stderr = ''
  try {
    const code = await run(args, {
      stdout: (text) => {
        stdout += text
      },
      stderr: (text) => {
        stderr += text
      },
    })
    return { code, stdout, stderr }
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}

/** The real bin, spawned through tsx: what a shell sees, stdin included. */
export function spawned(
  args: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...CLEAN_ENV, ...options.env },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    child.stdin.end(options.stdin ?? '')
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

const noStack = (r: Result) =>
  assert.doesNotMatch(r.stderr + r.stdout, /\n\s+at .+:\d+:\d+/, 'a stack trace was printed')

export function cliSuite(driver: Driver): void {
  describe(`docket CLI [${driver}]`, () => {
    let target: Target
    let db: string[]
    before(async () => {
      target = await freshTarget(driver)
      db = ['--db', target.url]
    })
    after(async () => target.cleanup())

    it('migrates, creates and lists queues, adds and lists jobs, shows, steers and deletes them', async () => {
      assert.equal((await docket(['migrate', ...db])).code, 0)
      const created = await docket(['queues', 'create', 'docs', '--concurrency', '2', '--json', ...db])
      assert.equal(created.code, 0, created.stderr)
      assert.equal(JSON.parse(created.stdout).concurrency, 2)
      assert.match(
        (await docket(['queues', 'update', 'docs', '--mode', 'manual', ...db])).stdout,
        /updated queue docs/,
      )
      const added = await docket(['add', 'docs', 'analyse', '{"n":1}', '--priority', 'high', '--json', ...db])
      const job = JSON.parse(added.stdout)
      assert.equal(job.status, 'held')
      assert.equal(job.priority, 75)
      const second = await docket(['add', 'docs', 'analyse', '{"n":2}', ...db])
      assert.equal(second.code, 0, second.stderr)
      const ls = await docket(['jobs', 'ls', '--queue', 'docs', '--status', 'held', '--json', ...db])
      assert.equal(JSON.parse(ls.stdout).jobs.length, 2)
      assert.match((await docket(['jobs', 'ls', ...db])).stdout, /ID\s+QUEUE\s+TYPE\s+STATUS/)
      assert.match((await docket(['jobs', 'promote', job.id, ...db])).stdout, /waiting/)
      assert.match((await docket(['jobs', 'cancel', job.id, ...db])).stdout, /cancelled/)
      assert.match((await docket(['jobs', 'retry', job.id, ...db])).stdout, /held/)
      const show = await docket(['jobs', 'show', job.id, ...db])
      assert.match(show.stdout, /events:/)
      assert.match(show.stdout, /added held/)
      assert.match((await docket(['jobs', 'rm', job.id, ...db])).stdout, /deleted/)
      assert.match((await docket(['queues', 'pause', 'docs', ...db])).stdout, /docs is paused/)
      assert.match((await docket(['queues', 'resume', 'docs', ...db])).stdout, /docs is active/)
      assert.match((await docket(['queues', 'ls', ...db])).stdout, /docs\s+active\s+manual/)
      assert.equal((await docket(['workers', '--json', ...db])).code, 0)
      assert.match((await docket(['stats', 'docs', ...db])).stdout, /last hour/)
      assert.match((await docket(['cleanup', '--older-than', '7d', ...db])).stdout, /deleted 0 finished jobs/)
    })

    it('add takes every option of the library’s add, and jobs ls finds by id, text and payload values, on a database and through a server', async () => {
      const d = await Docket.open(target.url)
      const app = await buildApp({ docket: d })
      try {
        await app.listen({ host: '127.0.0.1', port: 0 })
        const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
        const { key } = await createKey(d, 'cli-options', 'admin')
        for (const [how, connection] of [
          ['db', db],
          ['url', ['--url', url, '--key', key]],
        ] as const) {
          const queue = `opts-${how}`
          assert.equal((await docket(['queues', 'create', queue, ...connection])).code, 0)
          const add = async (...args: string[]) => {
            const r = await docket(['add', queue, ...args, '--json', ...connection])
            assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
            return JSON.parse(r.stdout)
          }
          const first = await add(
            'up',
            '{"customer":42}',
            '--timeout',
            '30s',
            '--expires-in',
            '1h',
            '--group',
            'g',
          )
          assert.equal(first.timeoutMs, 30_000)
          assert.equal(Date.parse(first.expiresAt) - Date.parse(first.createdAt), 3_600_000)
          assert.equal(first.group, 'g')
          const options = [
            '--dedupe-key',
            'k',
            '--dedupe-mode',
            'debounce',
            '--delay',
            '1m',
            '--dedupe-max-wait',
            '10s',
          ]
          const debounced = await add(
            'down',
            '{"v":1}',
            ...options,
            '--depends-on',
            first.id,
            '--on',
            'completion',
          )
          assert.equal(debounced.status, 'blocked')
          assert.equal(
            Date.parse(debounced.runAt) - Date.parse(debounced.createdAt),
            10_000,
            'capped at 10 s',
          )
          const again = await add('down', '{"v":2,"note":"quarterly"}', ...options)
          assert.equal(again.id, debounced.id)
          assert.deepEqual(again.payload, { v: 2, note: 'quarterly' })
          const shown = await docket(['jobs', 'show', debounced.id, '--json', ...connection])
          assert.deepEqual(JSON.parse(shown.stdout).dependencies.upstream, [
            { id: first.id, status: 'waiting', on: 'completion' },
          ])
          const ttl = await add(
            't',
            '--dedupe-key',
            'ttl',
            '--dedupe-ttl',
            '1h',
            '--expires-at',
            '2100-01-01T00:00:00Z',
          )
          assert.equal(ttl.expiresAt, '2100-01-01T00:00:00.000Z')

          const ls = async (...args: string[]) => {
            const r = await docket(['jobs', 'ls', '--queue', queue, ...args, '--json', ...connection])
            assert.equal(r.code, 0, r.stderr)
            return JSON.parse(r.stdout)
          }
          const byWhere = await ls('--where', 'payload.customer = 42', '--count')
          assert.deepEqual(
            byWhere.jobs.map((j: { id: string }) => j.id),
            [first.id],
          )
          assert.deepEqual(byWhere.count, { value: 1, exact: true })
          assert.deepEqual(
            (await ls('--search', 'quarterly')).jobs.map((j: { id: string }) => j.id),
            [debounced.id],
          )
          assert.deepEqual(
            (await ls('--id', first.id.slice(-8))).jobs.map((j: { id: string }) => j.id),
            [first.id],
          )
          const text = await docket(['jobs', 'ls', '--queue', queue, '--count', ...connection])
          assert.match(text.stdout, /3 matching jobs/)
          const bad = await docket(['add', queue, 't', '--dedupe-max-wait', '5s', ...connection])
          assert.equal(bad.code, 1)
          assert.match(bad.stderr, /INVALID_ARGUMENT.*dedupeMaxWaitMs/)
          const orphan = await docket(['add', queue, 't', '--on', 'completion', ...connection])
          assert.equal(orphan.code, 2)
          assert.match(orphan.stderr, /give --depends-on too/)
        }
        const help = await docket(['add', '--help'])
        for (const flag of [
          '--dedupe-mode',
          '--dedupe-ttl',
          '--dedupe-max-wait',
          '--expires-in',
          '--timeout',
          '--on',
        ])
          assert.match(help.stdout, new RegExp(`${flag} `), flag)
        assert.match((await docket(['jobs', 'ls', '--help'])).stdout, /--where <conditions>/)
      } finally {
        await app.close()
        await d.close()
      }
    })

    it('the real bin, spawned: a payload from stdin, and the exit status of bad usage and of no server', async () => {
      const fromStdin = await spawned(['add', 'docs', 'analyse', '--payload-file', '-', '--json', ...db], {
        stdin: '{"n":2}',
      })
      assert.equal(fromStdin.code, 0, fromStdin.stderr)
      assert.deepEqual(JSON.parse(fromStdin.stdout).payload, { n: 2 })
      const cases: [string[], number, RegExp][] = [
        [['frobnicate'], 2, /unknown command 'frobnicate'/],
        [['jobs', 'ls', '--url', 'http://127.0.0.1:9', '--key', 'k'], 3, /cannot reach the Docket server/],
      ]
      for (const [args, code, message] of cases) {
        const r = await spawned(args)
        assert.equal(r.code, code, `${args.join(' ')}: exit ${r.code}, ${r.stderr}`)
        assert.match(r.stderr, message, args.join(' '))
        noStack(r)
      }
    })

    it('migrate --plan, --print and status read the schema without changing it; --no-migrate refuses one that is behind', async () => {
      const fresh = await freshTarget(driver)
      const at = ['--db', fresh.url]
      try {
        const plan = await docket(['migrate', '--plan', '--json', ...at])
        assert.equal(plan.code, 0, plan.stderr)
        const steps: string[] = JSON.parse(plan.stdout).steps
        assert.equal(steps[0], 'migration 0001_initial_schema.sql')
        if (driver === 'postgres') assert.ok(steps.includes('function functions/claim_jobs.sql'))
        const printed = await docket(['migrate', '--print', ...at])
        assert.match(printed.stdout, /^-- migration 0001_initial_schema\.sql\n[\s\S]*CREATE TABLE queues/)
        const before = await docket(['migrate', 'status', '--json', ...at])
        assert.equal(JSON.parse(before.stdout).databaseVersion, 0, 'nothing was applied')
        assert.equal(JSON.parse(before.stdout).upToDate, false)

        const refused = await docket(['worker', '--no-migrate', '--module', 'nowhere.js', ...at])
        assert.equal(refused.code, 1)
        assert.match(refused.stderr, /SCHEMA_OLDER: .*run `docket migrate`/)

        assert.equal((await docket(['migrate', ...at])).code, 0)
        const status = await docket(['migrate', 'status', ...at])
        assert.match(status.stdout, /up to date/)
        assert.match(status.stdout, /pending: none/)
        if (driver === 'postgres') assert.match(status.stdout, /claim_jobs\s+current/)
        assert.match((await docket(['migrate', '--plan', ...at])).stdout, /nothing to do/)
      } finally {
        await fresh.cleanup()
      }
    })

    it('sets and clears a queue rate limit, and its group options', async () => {
      const made = await docket(['queues', 'create', 'limited', '--rate-limit', '100/1s', '--json', ...db])
      assert.equal(made.code, 0, made.stderr)
      assert.deepEqual(JSON.parse(made.stdout).rateLimit, { max: 100, intervalMs: 1000 })
      const ls = await docket(['queues', 'ls', ...db])
      assert.match(ls.stdout, /limited\s+active\s+automatic\s+-\s+100\/1000ms/)
      const cleared = await docket(['queues', 'update', 'limited', '--rate-limit', 'none', '--json', ...db])
      assert.equal(JSON.parse(cleared.stdout).rateLimit, null)
      const grouped = await docket([
        'queues',
        'update',
        'limited',
        '--rate-limit',
        '5/1m/group',
        '--group-concurrency',
        '2',
        '--fair',
        '--group-by-owner',
        '--json',
        ...db,
      ])
      const g = JSON.parse(grouped.stdout)
      assert.deepEqual(
        [g.rateLimit, g.groupConcurrency, g.fair, g.groupByOwner],
        [{ max: 5, intervalMs: 60_000, per: 'group' }, 2, true, true],
      )
      // On a queue grouped by owner a job's group is its owner: a --group given is ignored.
      const added = await docket([
        'add',
        'limited',
        't',
        '--owner',
        'ann',
        '--group',
        'acme',
        '--json',
        ...db,
      ])
      assert.equal(JSON.parse(added.stdout).group, 'ann')
      const unfair = await docket(['queues', 'update', 'limited', '--no-fair', '--json', ...db])
      assert.deepEqual(
        [JSON.parse(unfair.stdout).fair, JSON.parse(unfair.stdout).groupByOwner],
        [false, true],
      )
      const bad = await docket(['queues', 'update', 'limited', '--rate-limit', 'fast', ...db])
      assert.equal(bad.code, 1)
      assert.match(bad.stderr, /--rate-limit expects max\/interval/)
    })

    it('manages schedules: create, ls, show, update, pause, resume, run and rm, by name or id', async () => {
      assert.equal((await docket(['queues', 'create', 'nightly-q', ...db])).code, 0)
      const made = await docket([
        'schedules',
        'create',
        'nightly',
        '--queue',
        'nightly-q',
        '--type',
        'report',
        '--cron',
        '0 3 * * *',
        '--timezone',
        'Europe/Berlin',
        '--payload',
        '{"k":1}',
        '--options',
        '{"priority":"high"}',
        '--catch-up',
        'all',
        '--json',
        ...db,
      ])
      assert.equal(made.code, 0, made.stderr)
      const s = JSON.parse(made.stdout)
      assert.deepEqual(
        [s.cron, s.timezone, s.catchUp, s.options.priority],
        ['0 3 * * *', 'Europe/Berlin', 'all', 'high'],
      )
      const ls = await docket(['schedules', 'ls', ...db])
      assert.match(ls.stdout, /nightly\s.*0 3 \* \* \* \(Europe\/Berlin\)\s+nightly-q\s+report\s+active/)
      const ran = await docket(['schedules', 'run', 'nightly', ...db])
      assert.match(ran.stdout, /run waiting: job [0-9a-f-]{36}/)
      const updated = JSON.parse(
        (await docket(['schedules', 'update', s.id, '--every', '90s', '--json', ...db])).stdout,
      )
      assert.deepEqual([updated.cron, updated.every], [null, 90_000])
      assert.match((await docket(['schedules', 'pause', 'nightly', ...db])).stdout, /nightly is paused/)
      assert.match((await docket(['schedules', 'resume', 'nightly', ...db])).stdout, /nightly is active/)
      const shown = await docket(['schedules', 'show', 'nightly', ...db])
      assert.match(shown.stdout, /every 90s/)
      assert.match(shown.stdout, /run now\s+waiting/)
      const bad = await docket([
        'schedules',
        'create',
        'x',
        '--queue',
        'nightly-q',
        '--type',
        't',
        '--cron',
        '61 * * * *',
        ...db,
      ])
      assert.equal(bad.code, 1)
      assert.match(bad.stderr, /INVALID_ARGUMENT: invalid cron: minute field: 61 is out of range 0-59/)
      noStack(bad)
      assert.match((await docket(['schedules', 'rm', 'nightly', ...db])).stdout, /deleted schedule nightly/)
      const gone = await docket(['schedules', 'show', 'nightly', ...db])
      assert.equal(gone.code, 1)
      assert.match(gone.stderr, /NOT_FOUND: schedule 'nightly' does not exist/)
      assert.match((await docket(['schedules', 'create', '--help'])).stdout, /--catch-up <policy>/)
    })

    it('manages API keys, printing a key only when it is created', async () => {
      const created = JSON.parse(
        (await docket(['keys', 'create', 'alice', '--role', 'user', '--json', ...db])).stdout,
      )
      assert.match(created.key, /^dk_/)
      const listed = await docket(['keys', 'list', ...db])
      assert.match(listed.stdout, /alice/)
      assert.doesNotMatch(listed.stdout, new RegExp(created.key))
      assert.match((await docket(['keys', 'revoke', created.id, ...db])).stdout, /revoked/)
      const again = await docket(['keys', 'revoke', created.id, ...db])
      assert.equal(again.code, 1)
    })

    it('refuses bad input with a clear message and the documented exit code', async () => {
      const cases: [string[], number, RegExp][] = [
        [['jobs', 'ls', '--bogus', ...db], 2, /unknown option '--bogus'/],
        [['add', ...db], 2, /missing required argument 'queue'/],
        [['frobnicate'], 2, /unknown command 'frobnicate'/],
        [['add', 'docs', 't', '{not json', ...db], 1, /payload is not valid JSON/],
        [['add', 'nowhere', 't', ...db], 1, /NOT_FOUND: queue 'nowhere' does not exist/],
        [['add', 'docs', 't', '--priority', 'extreme', ...db], 1, /INVALID_ARGUMENT.*priority/],
        [['jobs', 'show', 'not-an-id', ...db], 1, /expected a job id \(a UUID\)/],
        [['jobs', 'ls', '--limit', 'x', ...db], 2, /--limit must be an integer/],
        [['cleanup', '--older-than', 'soon', ...db], 1, /expected a duration/],
        [['jobs', 'ls', '--url', 'http://127.0.0.1:9', '--key', 'k'], 3, /cannot reach the Docket server/],
        [['jobs', 'ls', '--config', '/nonexistent.json'], 2, /does not exist/],
      ]
      for (const [args, code, message] of cases) {
        const r = await docket(args)
        assert.equal(r.code, code, `${args.join(' ')}: exit ${r.code}, ${r.stderr}`)
        assert.match(r.stderr, message, args.join(' '))
        noStack(r)
      }
      const help = await docket(['jobs', 'ls', '--help'])
      assert.equal(help.code, 0)
      assert.match(help.stdout, /--status <list>/)
    })

    it('reads its connection from a config file, below flags and the environment', async () => {
      const file = join(
        target.url.startsWith('postgres') ? ROOT : join(target.url, '..'),
        `.docket-test-${process.pid}.json`,
      )
      writeFileSync(file, JSON.stringify({ db: target.url }))
      try {
        const r = await docket(['queues', 'ls', '--json', '--config', file])
        assert.equal(r.code, 0, r.stderr)
        assert.ok(JSON.parse(r.stdout).some((q: { name: string }) => q.name === 'docs'))
        const overridden = await docket(['queues', 'ls', '--config', file], {
          env: { DOCKET_URL: 'http://127.0.0.1:9' },
        })
        assert.equal(overridden.code, 3)
      } finally {
        const { rmSync } = await import('node:fs')
        rmSync(file, { force: true })
      }
    })

    it('against a server: add --wait follows the document pipeline and prints the extracted fields', async () => {
      const d = await Docket.open(target.url)
      const app = await buildApp({ docket: d })
      const { handlers, queues } = await import('../../examples/document-pipeline/pipeline.js')
      const { Worker } = await import('../../src/index.js')
      await d.createQueue(queues[0]!)
      const worker = await new Worker(d, { queues: ['documents'], handlers, pollMs: 100 }).start()
      try {
        await app.listen({ host: '127.0.0.1', port: 0 })
        const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
        const { key } = await createKey(d, 'cli', 'admin')
        const r = await docket([
          'add',
          'documents',
          'process',
          '--file',
          join(SAMPLES, 'invoice.pdf'),
          '--wait',
          '--url',
          url,
          '--key',
          key,
        ])
        assert.equal(r.code, 0, r.stderr)
        assert.match(r.stderr, /100%/)
        assert.match(r.stdout, /^completed: /)
        assert.match(r.stdout, /"type": "invoice"/)
        assert.match(r.stdout, /INV-2026-0042/)
        const failing = await docket([
          'add',
          'documents',
          'process',
          '--wait',
          '--json',
          '--url',
          url,
          '--key',
          key,
        ])
        assert.equal(failing.code, 1)
        assert.equal(JSON.parse(failing.stdout).status, 'failed')
        const remote = await docket(['queues', 'ls', '--url', url, '--key', key])
        assert.match(remote.stdout, /documents/)
        const denied = await docket(['queues', 'ls', '--url', url, '--key', 'dk_wrong'])
        assert.equal(denied.code, 1)
        assert.match(denied.stderr, /UNAUTHENTICATED/)
      } finally {
        await worker.close()
        await app.close()
        await d.close()
      }
    })

    it('jobs wait: prints the ended job (exit 0 completed, 1 failed), WAIT_TIMEOUT after --timeout; on a database and through a server', async () => {
      const d = await Docket.open(target.url)
      const app = await buildApp({ docket: d })
      try {
        await app.listen({ host: '127.0.0.1', port: 0 })
        const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
        const { key } = await createKey(d, 'waiter', 'admin')
        await d.createQueue({ name: 'awaited' })
        const done = await d.add({ queue: 'awaited', type: 'done' })
        const broken = await d.add({ queue: 'awaited', type: 'broken' })
        for (const where of [db, ['--url', url, '--key', key]]) {
          const early = await docket(['jobs', 'wait', done.id, '--timeout', '20', ...where])
          assert.equal(early.code, 1)
          assert.match(early.stderr, /WAIT_TIMEOUT: job '.+' has not ended after 20 ms \(it is waiting\)/)
          noStack(early)
        }
        const [a, b] = await d.workers.claim({ workerId: 'cli-w', queues: ['awaited'], limit: 2 })
        const byId = new Map([a!, b!].map((j) => [j.id, j]))
        await d.workers.complete(byId.get(done.id)!, { ok: true })
        await d.workers.fail(byId.get(broken.id)!, { message: 'no pages' }, { retryable: false })
        for (const where of [db, ['--url', url, '--key', key]]) {
          const ok = await docket(['jobs', 'wait', done.id, ...where])
          assert.equal(ok.code, 0, ok.stderr)
          assert.match(ok.stdout, /^completed: .+ \{"ok":true\}/)
          const failed = await docket(['jobs', 'wait', broken.id, '--json', ...where])
          assert.equal(failed.code, 1)
          assert.equal(JSON.parse(failed.stdout).status, 'failed')
        }
        const bad = await docket(['jobs', 'wait', done.id, '--timeout', 'soon', ...db])
        assert.equal(bad.code, 2)
        assert.match(bad.stderr, /--timeout must be a duration/)
      } finally {
        await app.close()
        await d.close()
      }
    })

    it('manages API keys through a server (--url with an admin key): a remote admin mints a worker key', async () => {
      const d = await Docket.open(target.url)
      const app = await buildApp({ docket: d })
      try {
        await app.listen({ host: '127.0.0.1', port: 0 })
        const url = ['--url', `http://127.0.0.1:${(app.server.address() as { port: number }).port}`]
        const admin = ['--key', (await createKey(d, 'remote-admin', 'admin')).key]
        const made = await docket([
          'keys',
          'create',
          'render-box',
          '--role',
          'worker',
          '--json',
          ...url,
          ...admin,
        ])
        assert.equal(made.code, 0, made.stderr)
        const created = JSON.parse(made.stdout)
        assert.match(created.key, /^dk_/)
        assert.equal(created.role, 'worker')
        // The minted key works against the server as a worker key.
        const claim = await fetch(`${url[1]}/api/v1/workers`, {
          method: 'POST',
          headers: { authorization: `Bearer ${created.key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ id: 'w-cli', queues: ['docs'] }),
        })
        assert.equal(claim.status, 201, await claim.text())
        const listed = await docket(['keys', 'list', ...url, ...admin])
        assert.equal(listed.code, 0, listed.stderr)
        assert.match(listed.stdout, /render-box/)
        assert.match(listed.stdout, /LASTUSED|lastUsed/i)
        assert.doesNotMatch(listed.stdout, new RegExp(created.key))
        const json = JSON.parse((await docket(['keys', 'list', '--json', ...url, ...admin])).stdout)
        assert.ok(json.find((k: { id: string }) => k.id === created.id))
        const revoked = await docket(['keys', 'revoke', created.id, ...url, ...admin])
        assert.equal(revoked.code, 0, revoked.stderr)
        assert.match(revoked.stdout, /revoked/)
        const again = await docket(['keys', 'revoke', created.id, ...url, ...admin])
        assert.equal(again.code, 1)
        assert.match(again.stderr, /NOT_FOUND/)
        // A user key may not manage keys: 403, exit 1.
        const user = ['--key', (await createKey(d, 'cli-user', 'user')).key]
        const denied = await docket(['keys', 'create', 'sneaky', '--role', 'admin', ...url, ...user])
        assert.equal(denied.code, 1)
        assert.match(denied.stderr, /FORBIDDEN/)
        noStack(denied)
      } finally {
        await app.close()
        await d.close()
      }
    })

    it('shows --url on `docket keys`, and --trust-proxy and the keys API on `docket serve`', async () => {
      const keys = await docket(['keys', '--help'])
      assert.equal(keys.code, 0)
      assert.match(keys.stdout, /--url <server>/)
      const create = await docket(['keys', 'create', '--help'])
      assert.match(create.stdout, /--url <url>/)
      assert.match(create.stdout, /--key <key>/)
      const serve = await docket(['serve', '--help'])
      assert.equal(serve.code, 0)
      assert.match(serve.stdout, /--trust-proxy <proxies>/)
      assert.match(serve.stdout, /DOCKET_TRUST_PROXY/)
      assert.match(serve.stdout, /GET\/POST \/api\/v1\/keys/)
      const bad = await docket(['serve', '--trust-proxy', '10.0.0.300', ...db])
      assert.equal(bad.code, 2)
      assert.match(bad.stderr, /not an address, CIDR range or range name: "10.0.0.300"/)
    })

    it('takes --public-url and the live feeds’ limits on `docket serve`, refusing what is not one', async () => {
      const serve = await docket(['serve', '--help'])
      assert.match(serve.stdout, /--public-url <url>/)
      assert.match(serve.stdout, /DOCKET_PUBLIC_URL/)
      assert.match(serve.stdout, /--feeds-per-key <n>/)
      assert.match(serve.stdout, /--feeds <n>/)
      const url = await docket(['serve', '--public-url', 'ftp://docket.example', ...db])
      assert.equal(url.code, 2)
      assert.match(url.stderr, /expected an http:\/\/ or https:\/\/ URL/)
      noStack(url)
      const feeds = await docket(['serve', '--feeds-per-key', 'many', ...db])
      assert.notEqual(feeds.code, 0)
      assert.match(feeds.stderr, /--feeds-per-key must be an integer/)
      noStack(feeds)
    })

    it('takes --credential-recheck, --search-timeout and --worker-retention on `docket serve`, durations above 0', async () => {
      const serve = await docket(['serve', '--help'])
      assert.match(serve.stdout, /--credential-recheck <duration>/)
      assert.match(serve.stdout, /--search-timeout <duration>/)
      assert.match(serve.stdout, /--worker-retention <duration>/)
      assert.match(serve.stdout, /default:\s+24h/)
      for (const [flag, value] of [
        ['--credential-recheck', '0'],
        ['--search-timeout', '0'],
        ['--worker-retention', 'soon'],
      ] as const) {
        const bad = await docket(['serve', flag, value, ...db])
        assert.notEqual(bad.code, 0)
        assert.match(bad.stderr, new RegExp(`${flag} must be`))
        noStack(bad)
      }
    })
  })
}
