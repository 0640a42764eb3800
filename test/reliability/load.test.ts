/**
 * `docket serve` in its own process under sustained HTTP load on loopback
 * (autocannon): creating jobs, listing them as a user, reading a queue and
 * the health check, over 10 connections. Every response must be a 2xx, with
 * no errors or timeouts; the p99 latency is reported, and the server's RSS
 * is measured after a warm-up, as its low points (after garbage collections)
 * over the first and the last stretch of the run: growth under 10 % is
 * asserted in the long run (60 s) and only reported in npm test (5 s).
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import autocannon from 'autocannon'
import { Docket } from '../../src/index.js'
import { createKey } from '../../src/server/auth.js'
import { DRIVERS, figure, freePort, freshTarget, LONG, pick, type Target } from './support.js'

const WARMUP_S = pick(2, 10)
const DURATION_S = pick(5, 60)
const CONNECTIONS = 10
const root = join(import.meta.dirname, '..', '..')

const rssBytes = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024

for (const driver of DRIVERS) {
  describe(`reliability: sustained HTTP load on docket serve [${driver}]`, () => {
    let target: Target | undefined
    let server: ChildProcess | undefined
    after(async () => {
      if (server && server.exitCode === null) {
        server.kill('SIGKILL')
        await new Promise((r) => server!.once('exit', r))
      }
      await target?.cleanup()
    })

    it(`${DURATION_S} s at ${CONNECTIONS} connections: 0 errors, 0 non-2xx`, async () => {
      target = await freshTarget(driver)
      const setup = await Docket.open(target.url)
      await setup.createQueue({ name: 'load' })
      const admin = (await createKey(setup, 'root', 'admin')).key
      const alice = (await createKey(setup, 'alice', 'user')).key
      await setup.close()

      const port = await freePort()
      server = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/cli/main.ts',
          'serve',
          '--db',
          target.url,
          '--port',
          String(port),
          '--log-level',
          'warn',
        ],
        { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
      )
      let output = ''
      server.stdout!.on('data', (c: Buffer) => {
        output += c.toString()
      })
      server.stderr!.on('data', (c: Buffer) => {
        output += c.toString()
      })
      await new Promise<void>((resolve, reject) => {
        server!.stdout!.on('data', () => output.includes('Docket is serving') && resolve())
        server!.once('exit', (code) => reject(new Error(`docket serve exited with ${code}: ${output}`)))
      })

      const json = { 'content-type': 'application/json' }
      const load = (seconds: number) =>
        autocannon({
          url: `http://127.0.0.1:${port}`,
          connections: CONNECTIONS,
          duration: seconds,
          timeout: 10,
          requests: [
            {
              method: 'POST',
              path: '/api/v1/jobs',
              headers: { ...json, authorization: `Bearer ${alice}` },
              body: JSON.stringify({
                queue: 'load',
                type: 'page',
                payload: { url: 'https://example.test/a' },
              }),
            },
            { method: 'GET', path: '/api/v1/jobs?limit=20', headers: { authorization: `Bearer ${alice}` } },
            { method: 'GET', path: '/api/v1/queues/load', headers: { authorization: `Bearer ${admin}` } },
            { method: 'GET', path: '/health' },
          ],
        })

      await load(WARMUP_S)
      // RSS rises and falls with the garbage collector: compare its low points (live memory after a
      // collection) over the first and the last stretch of the run, sampled every 250 ms.
      const samples: { at: number; rss: number }[] = []
      const sampler = setInterval(() => samples.push({ at: Date.now(), rss: rssBytes(server!.pid!) }), 250)
      const started = Date.now()
      const result = await load(DURATION_S)
      clearInterval(sampler)
      const ended = Date.now()
      const windowMs = pick(2_000, 15_000)
      const low = (from: number, to: number) =>
        Math.min(...samples.filter((x) => x.at >= from && x.at <= to).map((x) => x.rss))
      const rssStart = low(started, started + windowMs)
      const rssEnd = low(ended - windowMs, ended)
      const rssPeak = Math.max(...samples.map((x) => x.rss))
      const growthPct = ((rssEnd - rssStart) / rssStart) * 100
      const alive = server.exitCode === null

      figure('load', {
        driver,
        durationS: DURATION_S,
        connections: CONNECTIONS,
        requests: result.requests.total,
        rps: result.requests.average,
        p50Ms: result.latency.p50,
        p99Ms: result.latency.p99,
        maxMs: result.latency.max,
        errors: result.errors,
        timeouts: result.timeouts,
        non2xx: result.non2xx,
        rssStartMB: rssStart / 2 ** 20,
        rssEndMB: rssEnd / 2 ** 20,
        rssPeakMB: rssPeak / 2 ** 20,
        rssGrowthPct: growthPct,
      })

      assert.ok(alive, `the server died: ${output}`)
      assert.ok(result.requests.total > 0)
      assert.equal(result.errors, 0, 'connection errors')
      assert.equal(result.timeouts, 0, 'timeouts')
      assert.equal(result.non2xx, 0, `non-2xx responses: ${JSON.stringify(result.statusCodeStats)}`)
      assert.doesNotMatch(
        output,
        /"level":50|unhandled error/,
        `the server logged errors: ${output.slice(0, 2000)}`,
      )
      if (LONG) assert.ok(growthPct < 10, `RSS grew ${growthPct.toFixed(1)} % after warm-up`)
    })
  })
}
