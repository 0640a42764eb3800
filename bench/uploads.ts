/**
 * Upload memory benchmark: the server's peak resident memory while it takes
 * one request of 20 files of 24 MiB each (480 MiB, under the default limits
 * of 25 MiB a file and 512 MiB a request). Uploads stream to storage, so the
 * peak should stay near the idle figure whatever the size; the target is less
 * than 100 MiB above idle. Not a test; run with `npm run bench:uploads`.
 *
 * The server runs in a child process (bench/upload-server.ts) so that only
 * its memory is counted: VmRSS from /proc/<pid>/status before the upload
 * (after one small warm-up upload), and the peak, VmHWM, reset just before
 * the upload (/proc/<pid>/clear_refs) and also sampled every 10 ms.
 *
 * SQLite in a temp directory by default; `-- --postgres` uses
 * DOCKET_BENCH_PG_URL, else postgres://postgres@127.0.0.1:5432/test, in a
 * throwaway schema. BENCH_FILES and BENCH_FILE_MIB change the shape.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'

const FILES = Number(process.env.BENCH_FILES ?? 20)
const FILE_BYTES = Number(process.env.BENCH_FILE_MIB ?? 24) * 1024 * 1024
const MiB = 1024 * 1024
const BOUNDARY = 'docket-bench-boundary'

/** A kernel figure of /proc/<pid>/status, in bytes. */
function status(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`))
  return Number(line?.match(/(\d+)\s*kB/)?.[1] ?? 0) * 1024
}

/** The multipart body, as parts produced one at a time (the client never holds a file whole either). */
function* body(files: number, fileBytes: number): Generator<Buffer> {
  yield Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="job"\r\n\r\n${JSON.stringify({ queue: 'bench-uploads', type: 'upload' })}\r\n`,
  )
  const text = Buffer.alloc(64 * 1024, 'docket '.repeat(10))
  const binary = randomBytes(64 * 1024)
  for (let i = 0; i < files; i++) {
    const type = i % 2 === 0 ? 'text/plain' : 'application/octet-stream'
    yield Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="file-${i}"\r\nContent-Type: ${type}\r\n\r\n`,
    )
    const chunk = type === 'text/plain' ? text : binary
    for (let left = fileBytes; left > 0; left -= chunk.length)
      yield chunk.subarray(0, Math.min(left, chunk.length))
    yield Buffer.from('\r\n')
  }
  yield Buffer.from(`--${BOUNDARY}--\r\n`)
}

function contentLength(files: number, fileBytes: number): number {
  let n = 0
  for (const part of body(files, 0)) n += part.length
  return n + files * fileBytes
}

/** Sends one upload; resolves with the status and the parsed answer. */
function upload(
  port: number,
  files: number,
  fileBytes: number,
): Promise<{ status: number; body: { artifacts?: unknown[] } }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/v1/jobs/upload',
      headers: {
        'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
        'content-length': String(contentLength(files, fileBytes)),
      },
    })
    req.on('response', (res) => {
      let text = ''
      res.on('data', (c) => (text += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }))
    })
    req.on('error', reject)
    ;(async () => {
      for (const chunk of body(files, fileBytes)) {
        if (!req.write(chunk)) await new Promise((r) => req.once('drain', r))
      }
      req.end()
    })().catch(reject)
  })
}

async function startServer(
  url: string,
  artifactsDir: string,
): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(join(import.meta.dirname, 'upload-server.ts'), [url, artifactsDir], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port))
    child.once('exit', (code) => reject(new Error(`the server exited with ${code}`)))
  })
  return { child, port }
}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`

async function run(driver: string, url: string, artifactsDir: string): Promise<void> {
  const { child, port } = await startServer(url, artifactsDir)
  const pid = child.pid!
  try {
    // Warm up: load every code path an upload takes (multipart, content checks, storage).
    const warm = await upload(port, 2, 64 * 1024)
    if (warm.status !== 201) throw new Error(`warm-up upload: ${warm.status} ${JSON.stringify(warm.body)}`)
    await new Promise((r) => setTimeout(r, 1000))
    const idle = status(pid, 'VmRSS')
    writeFileSync(`/proc/${pid}/clear_refs`, '5') // resets VmHWM to the current RSS
    let sampled = idle
    const sampler = setInterval(() => {
      sampled = Math.max(sampled, status(pid, 'VmRSS'))
    }, 10)
    const start = process.hrtime.bigint()
    const result = await upload(port, FILES, FILE_BYTES)
    const seconds = Number(process.hrtime.bigint() - start) / 1e9
    clearInterval(sampler)
    const peak = Math.max(status(pid, 'VmHWM'), sampled)
    await new Promise((r) => setTimeout(r, 1000))
    const after = status(pid, 'VmRSS')
    if (result.status !== 201 || result.body.artifacts?.length !== FILES) {
      throw new Error(`the upload was refused: ${result.status} ${JSON.stringify(result.body).slice(0, 300)}`)
    }
    const total = FILES * FILE_BYTES
    console.log(
      `${driver.padEnd(10)} one request of ${FILES} × ${mib(FILE_BYTES)} (${mib(total)}) in ${seconds.toFixed(2)} s (${(total / MiB / seconds).toFixed(0)} MiB/s)`,
    )
    console.log(
      `${''.padEnd(10)} server RSS: idle ${mib(idle)}, peak ${mib(peak)} (+${mib(peak - idle)} above idle; target < +100 MiB), 1 s after ${mib(after)}`,
    )
    if (peak - idle >= 100 * MiB) process.exitCode = 1
  } finally {
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
  }
}

if (process.argv.includes('--postgres')) {
  const base = process.env.DOCKET_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
  const schema = `bench_uploads_${process.pid}`
  const url = `${base}${base.includes('?') ? '&' : '?'}schema=${schema}`
  const dir = mkdtempSync(join(tmpdir(), 'docket-bench-uploads-'))
  try {
    await run('postgres', url, join(dir, 'artifacts'))
  } finally {
    const client = new pg.Client({ connectionString: base })
    await client.connect()
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await client.end()
    rmSync(dir, { recursive: true, force: true })
  }
} else {
  const dir = mkdtempSync(join(tmpdir(), 'docket-bench-uploads-'))
  try {
    await run('sqlite', join(dir, 'docket.db'), join(dir, 'artifacts'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
