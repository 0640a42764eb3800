/** Multipart bodies built by hand for the upload tests, and a client that streams them. */
import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { join, relative } from 'node:path'
import type { StoredKey } from '../../src/artifacts/storage.js'
import { assertErrorShape, type Driver, type Json, type Server } from './harness.js'

export const MiB = 1024 * 1024
export const BOUNDARY = 'docket-test-boundary'

/** One part of a multipart body, as raw bytes: a field, or the head of a file (its bytes follow). */
export function partHead(name: string, file?: { filename: string; type: string }): Buffer {
  const disposition = file
    ? `form-data; name="${name}"; filename="${file.filename}"\r\nContent-Type: ${file.type}`
    : `form-data; name="${name}"`
  return Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: ${disposition}\r\n\r\n`)
}
export const field = (name: string, value: string) =>
  Buffer.concat([partHead(name), Buffer.from(`${value}\r\n`)])
export const file = (name: string, type: string, bytes: Buffer) =>
  Buffer.concat([partHead('file', { filename: name, type }), bytes, Buffer.from('\r\n')])
export const closing = Buffer.from(`--${BOUNDARY}--\r\n`)
export const multipartType = `multipart/form-data; boundary=${BOUNDARY}`

/** Every file under `root`, relative to it. */
/**
 * What the Docket's artifact storage holds, whichever backend (a directory, the
 * database, a bucket): every key, a partial write's ending in `.partial`.
 */
export async function storedFiles(storage: { list(): Promise<StoredKey[]> }): Promise<string[]> {
  return (await storage.list()).map((k) => (k.partial ? `${k.key}.partial` : k.key)).sort()
}

export function filesUnder(root: string): string[] {
  try {
    return readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(root, join(e.parentPath, e.name)))
      .sort()
  } catch {
    return []
  }
}

export interface Sent {
  status: number
  body: Json
  /** Body bytes the client had written when the answer came. */
  sent: number
}

/**
 * POSTs a body produced chunk by chunk by `chunks` (never held whole), over a
 * raw HTTP request that reads the answer as soon as it comes, like curl does.
 * Stops writing once answered. `pause(sent)` may hold the body back midway.
 */
export function send(
  s: Server,
  path: string,
  chunks: () => Generator<Buffer>,
  options: {
    headers?: Record<string, string>
    who?: 'alice' | 'worker'
    pause?: (sent: number) => Promise<void>
  } = {},
): Promise<Sent> {
  return new Promise((resolve, reject) => {
    let sent = 0
    let answered = false
    const req = httpRequest(`${s.base}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${s.keys[options.who ?? 'alice']}`,
        'content-type': multipartType,
        ...options.headers,
      },
    })
    req.on('response', (res) => {
      answered = true
      const at = sent
      let text = ''
      res.on('data', (c) => (text += c))
      res.on('end', () => {
        req.destroy()
        const body = text ? (JSON.parse(text) as Json) : {}
        if ((res.statusCode ?? 0) >= 400) assertErrorShape(body, res.statusCode!, `POST ${path}`)
        resolve({ status: res.statusCode!, body, sent: at })
      })
    })
    req.on('error', (error) => {
      if (!answered) reject(error)
    })
    ;(async () => {
      for (const chunk of chunks()) {
        if (answered) return
        await options.pause?.(sent)
        sent += chunk.length
        if (!req.write(chunk)) await new Promise((r) => req.once('drain', r))
      }
      if (!answered) req.end()
    })().catch((error) => {
      req.destroy()
      if (!answered) reject(error)
    })
  })
}

/** A job field, then one file of `size` bytes of `fill` in 64 KiB chunks (generated, never held whole). */
export function* oneFile(size: number, options: { job?: string; type?: string; close?: boolean } = {}) {
  yield field('job', options.job ?? JSON.stringify({ queue: 'up', type: 'file' }))
  yield partHead('file', { filename: 'big.txt', type: options.type ?? 'text/plain' })
  const chunk = Buffer.alloc(64 * 1024, 'x')
  for (let left = size; left > 0; left -= chunk.length)
    yield left >= chunk.length ? chunk : chunk.subarray(0, left)
  yield Buffer.from('\r\n')
  if (options.close !== false) yield closing
}

/**
 * A real error of the driver, from data holding `secret`. PostgreSQL quotes
 * the data in its error (the test proves nothing if it stops doing so);
 * SQLite's errors name the problem only.
 */
export async function databaseError(driver: Driver, secret: string): Promise<Error> {
  try {
    if (driver === 'postgres') {
      const { findPostgres } = await import('../support/postgres.js')
      const { default: pg } = await import('pg')
      const client = new pg.Client({ connectionString: (await findPostgres()).url })
      await client.connect()
      try {
        await client.query('SELECT $1::jsonb', [`{"secret":"${secret}","s":"\\ud800"}`])
      } finally {
        await client.end()
      }
    } else {
      const { default: Database } = await import('better-sqlite3')
      const db = new Database(':memory:')
      try {
        db.prepare(`SELECT json_extract(?, '$')`).get(`{"secret":"${secret}",`)
      } finally {
        db.close()
      }
    }
  } catch (error) {
    if (driver === 'postgres') {
      const text = JSON.stringify({ ...(error as object), message: (error as Error).message })
      assert.ok(text.includes(secret), `PostgreSQL's error no longer quotes the data: ${text}`)
    }
    return error as Error
  }
  return assert.fail('expected the database to refuse')
}
