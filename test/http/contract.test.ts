/**
 * The contract is the OpenAPI document: a standard validator accepts the one
 * the server serves; openapi-typescript generates a client's types from it;
 * the remote-worker flow of docs/remote-workers.md (test/http/contract/flow.ts)
 * type-checks against those types and runs, through openapi-fetch only,
 * against a real server on 127.0.0.1, on both drivers. The live feed of that
 * run names the worker on every event a worker made, with kinds from the one
 * list in src/core/events.ts.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { pathToFileURL } from 'node:url'
import { compileErrors, validate } from '@readme/openapi-parser'
import openapiTS, { astToString } from 'openapi-typescript'
import ts from 'typescript'
import { FEED_EVENT_KINDS, JOB_EVENT_KINDS } from '../../src/core/events.js'
import { Docket } from '../../src/index.js'
import { type App, buildApp } from '../../src/server/app.js'
import { createKey } from '../../src/server/auth.js'
import type { eventJson } from '../../src/server/views.js'
import { Maintenance } from '../../src/worker/maintenance.js'
import { type Driver, freshTarget, type Target } from '../worker/harness.js'

const root = new URL('../..', import.meta.url).pathname
const FLOW = join(root, 'test/http/contract/flow.ts')

type FeedEvent = ReturnType<typeof eventJson>
/**
 * What flow.ts exports. It is imported by a computed path, so that the
 * repository's `tsc` does not follow it into `docket-openapi` (types that exist
 * only once this test has generated them); the test type-checks it itself.
 */
interface FlowModule {
  remoteWorkerFlow(
    base: string,
    adminKey: string,
  ): Promise<{ workerId: string; jobs: { done: string; retried: string; released: string } }>
  lostWorkerFlow(
    base: string,
    adminKey: string,
    pass: () => Promise<void>,
  ): Promise<{ workerId: string; jobId: string }>
  readFeed(base: string, key: string, until: (events: FeedEvent[]) => boolean): Promise<FeedEvent[]>
}
const loadFlow = async () => (await import(pathToFileURL(FLOW).href)) as FlowModule

interface Server {
  target: Target
  docket: Docket
  app: App
  base: string
  adminKey: string
  close(): Promise<void>
}

async function startServer(driver: Driver): Promise<Server> {
  const target = await freshTarget(driver)
  const docket = await Docket.open(target.url)
  const app = await buildApp({ docket })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const adminKey = (await createKey(docket, 'root', 'admin')).key
  return {
    target,
    docket,
    app,
    base,
    adminKey,
    async close() {
      await app.close()
      await docket.close()
      await target.cleanup()
    },
  }
}

/** Type-checks the flow against `typesFile` (the generated `docket-openapi`); returns the diagnostics. */
function typeCheckFlow(typesFile: string): string[] {
  const config = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile)
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, root)
  const program = ts.createProgram([FLOW], {
    ...options,
    noEmit: true,
    paths: { 'docket-openapi': [typesFile] },
  })
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
    .map((m, i, all) => `${i + 1}/${all.length}: ${m}`)
}

describe('the OpenAPI document is the contract', () => {
  let server: Server
  let document: Record<string, unknown>
  const work = join(root, '.tmp')
  let dir: string

  before(async () => {
    server = await startServer('sqlite')
    const r = await fetch(`${server.base}/api/v1/openapi.json`)
    assert.equal(r.status, 200)
    document = (await r.json()) as Record<string, unknown>
    mkdirSync(work, { recursive: true })
    dir = mkdtempSync(join(work, 'openapi-client-'))
  })
  after(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('passes a standard OpenAPI validator', async () => {
    const result = await validate(structuredClone(document) as never)
    assert.ok(result.valid, result.valid ? '' : compileErrors(result))
  })

  it('lists the event kinds, and the rules the server enforces on ids and names', () => {
    // biome-ignore lint/suspicious/noExplicitAny: the document is read field by field
    const doc = document as any
    const schemas = doc.components.schemas
    assert.deepEqual(schemas.Event.properties.kind.enum, FEED_EVENT_KINDS)
    assert.deepEqual(schemas.JobEvent.properties.kind.enum, [...JOB_EVENT_KINDS])
    const param = (path: string, method: string, name: string) =>
      doc.paths[path][method].parameters.find((p: { name: string }) => p.name === name).schema
    for (const [path, method] of [
      ['/api/v1/jobs/{id}', 'get'],
      ['/api/v1/jobs/{id}/complete', 'post'],
      ['/api/v1/batches/{id}', 'get'],
      ['/api/v1/keys/{id}', 'delete'],
    ] as const) {
      assert.equal(param(path, method, 'id').format, 'uuid', `${method} ${path}`)
      assert.ok(param(path, method, 'id').pattern, `${method} ${path}`)
    }
    assert.equal(param('/api/v1/queues/{name}', 'get', 'name').pattern, '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$')
    assert.deepEqual(param('/api/v1/workers/{id}/claim', 'post', 'id'), {
      type: 'string',
      minLength: 1,
      maxLength: 200,
    })
    const register = doc.paths['/api/v1/workers'].post.requestBody.content['application/json'].schema
    assert.equal(register.properties.id.maxLength, 200)
    assert.equal(register.properties.queues.items.pattern, '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$')
    const metrics = doc.paths['/metrics'].get.responses
    assert.ok(metrics['200'].content['text/plain'])
    assert.ok(metrics['403'], '/metrics is for admin keys: other roles get 403')
    const feed = doc.paths['/api/v1/events'].get.responses['200'].content['text/event-stream']
    assert.equal(feed.schema.$ref, '#/components/schemas/Event')
  })

  it('generates a typed client the remote-worker flow type-checks against', async () => {
    const types = astToString(await openapiTS(structuredClone(document) as never))
    const file = join(dir, 'openapi.d.ts')
    writeFileSync(file, types)
    assert.deepEqual(typeCheckFlow(file), [])
  })
})

for (const driver of ['sqlite', 'postgres'] as Driver[]) {
  describe(`remote workers through the generated client [${driver}]`, () => {
    let server: Server
    let flow: FlowModule
    before(async () => {
      server = await startServer(driver)
      flow = await loadFlow()
    })
    after(async () => {
      await server.close()
    })

    it('does everything docs/remote-workers.md describes', async () => {
      const { workerId, jobs } = await flow.remoteWorkerFlow(server.base, server.adminKey)
      const ours = new Set(Object.values(jobs))
      const events = await flow.readFeed(
        server.base,
        server.adminKey,
        (list) => list.filter((e) => e.kind === 'worker.stopped' && e.workerId === workerId).length === 2,
      )
      const kinds = new Set<string>(FEED_EVENT_KINDS)
      for (const e of events) assert.ok(kinds.has(e.kind), `${e.kind} is in the list of event kinds`)
      // Every event a worker made, or whose lease it ended, names the worker; the others name none.
      const byWorker = new Set([
        'job.started',
        'job.progress',
        'job.step.started',
        'job.step.completed',
        'job.log',
        'job.completed',
        'job.retrying',
      ])
      const jobEvents = events.filter((e) => e.jobId !== null && ours.has(e.jobId))
      for (const e of jobEvents) {
        if (byWorker.has(e.kind)) assert.equal(e.workerId, workerId, `${e.kind} names its worker`)
        if (e.kind === 'job.added') assert.equal(e.workerId, null, 'job.added has no worker')
      }
      // The released job went back twice: by release, and by the deregistration that handed it back.
      const handedBack = jobEvents.filter((e) => e.jobId === jobs.released && e.kind === 'job.waiting')
      assert.equal(handedBack.length, 2)
      for (const e of handedBack) assert.equal(e.workerId, workerId)
      assert.deepEqual(
        jobEvents.filter((e) => e.jobId === jobs.retried).map((e) => e.kind),
        ['job.added', 'job.started', 'job.retrying', 'job.started', 'job.completed'],
      )
      const own = events.filter((e) => e.kind.startsWith('worker.') && e.workerId === workerId)
      assert.deepEqual(
        own.map((e) => e.kind),
        ['worker.up', 'worker.stopped', 'worker.up', 'worker.stopped'],
      )
    })

    it('marks a silent worker lost as docs/remote-workers.md says, and names it on the events', async () => {
      const maintenance = new Maintenance(server.docket, { holder: 'contract-test', lostAfterMs: 0 })
      // A pass after a moment: long enough that the worker is silent, and (on SQLite, where the
      // leader allows for clock skew) that a lease ended by the last pass counts as expired.
      const pass = async () => {
        await new Promise((r) => setTimeout(r, 150))
        assert.equal(await maintenance.runOnce(), 'led')
      }
      try {
        const { workerId, jobId } = await flow.lostWorkerFlow(server.base, server.adminKey, pass)
        const events = await flow.readFeed(
          server.base,
          server.adminKey,
          (list) => list.filter((e) => e.jobId === jobId && e.kind === 'job.started').length === 2,
        )
        const lost = events.find((e) => e.kind === 'worker.lost' && e.workerId === workerId)
        assert.ok(lost, 'a worker.lost event names the worker')
        const recovered = events.find((e) => e.jobId === jobId && e.kind === 'job.waiting')
        assert.equal(recovered?.workerId, workerId, 'the recovery names the worker whose lease ran out')
      } finally {
        await maintenance.stop()
      }
    })
  })
}
