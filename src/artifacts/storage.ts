/**
 * Where artifact bytes live. `ArtifactStorage` is the whole contract a
 * backend meets: mint a key, write a stream under it (hashing and counting it
 * as it flows), read it back as a stream, remove it. Bytes are never held
 * whole in memory, so an upload costs the same few buffers whatever its size.
 *
 * Three backends, told apart by the form of their keys (so a record written
 * under one backend stays readable after the default changes: see open.ts):
 * - `LocalArtifactStorage` (here): a directory on the local filesystem, keys
 *   `ab/<uuid>` (a UUID fanned out by its first two characters). SQLite's default.
 * - `DatabaseArtifactStorage` (database.ts): chunks in PostgreSQL, keys `db:<uuid>`.
 *   PostgreSQL's default, so that every server on the database serves every file.
 * - `S3ArtifactStorage` (s3.ts): an S3-compatible bucket, keys `s3:<uuid>`.
 *
 * Keys are made by Docket itself: a client's file name is metadata only and
 * never touches a path or an object key.
 */
import { createHash, randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { Readable, Transform, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { v7 as uuidv7 } from 'uuid'
import { DocketError } from '../core/errors.js'
import type { ArtifactRecord } from '../storage/store.js'

export interface StoredBytes {
  size: number
  sha256: string
}

export interface ArtifactStorage {
  /** A fresh key to `put` a file under; its form names this backend. */
  newKey(): string
  /**
   * Streams `data` to `key`, hashing it as it goes. The key holds the bytes
   * only once all of them arrived: a stream that fails or passes `maxBytes`
   * leaves nothing behind (PAYLOAD_TOO_LARGE for the latter).
   */
  put(key: string, data: Readable, options: { maxBytes: number }): Promise<StoredBytes>
  /** The bytes under `key`; nothing is read (or fetched) until the stream is. */
  open(key: string): Readable
  remove(key: string): Promise<void>
  /** Every key holding bytes, partial writes (`partial`: not yet readable) included: for tests and audits. */
  list(): Promise<StoredKey[]>
}

export interface StoredKey {
  key: string
  /** Bytes held so far. */
  size: number
  /** Still being written (or left by a write that died): not readable. */
  partial: boolean
}

export const DEFAULT_MAX_ARTIFACT_BYTES = 25 * 1024 * 1024

/** A fresh local storage key: a random UUID behind its first two characters, `ab/ab…`. */
export function newStorageKey(): string {
  const id = randomUUID()
  return `${id.slice(0, 2)}/${id}`
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** The UUID of a `<scheme>:<uuid>` key, or BAD key: keys come from Docket, so a bad one is a bug, not input. */
export function keyId(key: string, scheme: string): string {
  const id = key.startsWith(`${scheme}:`) ? key.slice(scheme.length + 1) : ''
  if (!UUID.test(id)) throw new DocketError('INVALID_ARGUMENT', 'bad storage key')
  return id
}

export const fileTooLarge = (maxBytes: number): DocketError =>
  new DocketError('PAYLOAD_TOO_LARGE', `the file is larger than the limit of ${maxBytes} bytes`, { maxBytes })

/** Passes bytes through while counting and hashing them; fails once more than `maxBytes` went by. */
export class ByteMeter extends Transform {
  size = 0
  readonly #hash = createHash('sha256')

  constructor(readonly maxBytes: number) {
    super()
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length
    if (this.size > this.maxBytes) {
      done(fileTooLarge(this.maxBytes))
      return
    }
    this.#hash.update(chunk)
    done(null, chunk)
  }

  digest(): StoredBytes {
    return { size: this.size, sha256: this.#hash.digest('hex') }
  }
}

export class LocalArtifactStorage implements ArtifactStorage {
  constructor(readonly root: string) {}

  newKey(): string {
    return newStorageKey()
  }

  #path(key: string): string {
    if (!/^[0-9a-f]{2}\/[0-9a-f-]{36}$/.test(key))
      throw new DocketError('INVALID_ARGUMENT', 'bad storage key')
    return join(this.root, key)
  }

  async put(key: string, data: Readable, { maxBytes }: { maxBytes: number }): Promise<StoredBytes> {
    const path = this.#path(key)
    await mkdir(join(this.root, key.slice(0, 2)), { recursive: true })
    const temp = `${path}.partial`
    const meter = new ByteMeter(maxBytes)
    try {
      await pipeline(data, meter, createWriteStream(temp, { flags: 'wx' }))
      await rename(temp, path)
    } catch (error) {
      await rm(temp, { force: true })
      throw error
    }
    return meter.digest()
  }

  open(key: string): Readable {
    return createReadStream(this.#path(key))
  }

  async remove(key: string): Promise<void> {
    await rm(this.#path(key), { force: true })
  }

  async list(): Promise<StoredKey[]> {
    const entries = await readdir(this.root, { recursive: true, withFileTypes: true }).catch(() => [])
    const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name))
    const listed = await Promise.all(
      files.sort().map(async (path): Promise<StoredKey | null> => {
        const name = relative(this.root, path).split(sep).join('/')
        const partial = name.endsWith('.partial')
        // A file removed (or renamed from .partial) since readdir is simply not there any more.
        const size = await stat(path).then(
          (s) => s.size,
          () => null,
        )
        if (size === null) return null
        return { key: partial ? name.slice(0, -'.partial'.length) : name, size, partial }
      }),
    )
    return listed.filter((k) => k !== null)
  }
}

/** Stores one file of a job under a new key and returns the record to write for it. */
export async function storeFile(
  storage: ArtifactStorage,
  jobId: string,
  direction: 'input' | 'output',
  file: { name: string; mediaType: string; data: Readable | Buffer | string },
  maxBytes: number,
): Promise<ArtifactRecord> {
  const mediaType =
    typeof file?.mediaType === 'string' ? file.mediaType.split(';')[0]!.trim().toLowerCase() : ''
  if (!/^[\w.+-]+\/[\w.+-]+$/.test(mediaType)) {
    throw new DocketError('INVALID_ARGUMENT', 'a file needs a media type such as text/plain', {
      issues: [{ path: 'mediaType', message: 'expected type/subtype' }],
    })
  }
  const data =
    typeof file.data === 'string' || Buffer.isBuffer(file.data)
      ? Readable.from([Buffer.from(file.data)])
      : file.data
  const storageKey = storage.newKey()
  const bytes = await storage.put(storageKey, data, { maxBytes })
  return { id: uuidv7(), jobId, direction, name: cleanFileName(file.name), mediaType, storageKey, ...bytes }
}

/**
 * Characters that change how text around them is shown without being part of
 * it: controls (C0, DEL, C1) and the bidirectional controls. A name ending in
 * `\u202Efdp.exe` shows as `exe.pdf`; after cleaning it reads as it is.
 */
const HIDDEN = /[\p{Cc}\p{Bidi_Control}]/gu
/** Half of a surrogate pair on its own (from a library caller; HTTP names arrive as UTF-8). */
const LONE_SURROGATE = /\p{Surrogate}/gu

/** A name safe to show and to put in Content-Disposition: no directories, no control or bidi characters. */
export function cleanFileName(name: string | undefined): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? ''
  const visible = base.replace(LONE_SURROGATE, '\uFFFD').replace(HIDDEN, '')
  const clean = [...visible.replace(/^\.+/, '').trim()].slice(0, 200).join('')
  return clean === '' ? 'file' : clean
}
