/**
 * Where artifact bytes live: a directory on the local filesystem, under keys
 * Docket makes itself (a UUID, fanned out by its first two characters). A
 * client's file name is metadata only and never touches a path.
 */
import { createHash, randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { v7 as uuidv7 } from 'uuid'
import { DocketError } from '../core/errors.js'
import type { ArtifactRecord } from '../storage/store.js'

export interface StoredBytes {
  storageKey: string
  size: number
  sha256: string
}

export const DEFAULT_MAX_ARTIFACT_BYTES = 25 * 1024 * 1024

export class LocalArtifactStorage {
  constructor(readonly root: string) {}

  #path(key: string): string {
    if (!/^[0-9a-f]{2}\/[0-9a-f-]{36}$/.test(key))
      throw new DocketError('INVALID_ARGUMENT', 'bad storage key')
    return join(this.root, key)
  }

  /** Streams `data` to a new key, hashing as it goes; refuses (and deletes) more than `maxBytes`. */
  async put(data: Readable | Buffer | string, maxBytes = DEFAULT_MAX_ARTIFACT_BYTES): Promise<StoredBytes> {
    const id = randomUUID()
    const storageKey = `${id.slice(0, 2)}/${id}`
    const path = this.#path(storageKey)
    await mkdir(join(this.root, id.slice(0, 2)), { recursive: true })
    const temp = `${path}.partial`
    const hash = createHash('sha256')
    let size = 0
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length
        if (size > maxBytes) {
          done(
            new DocketError('PAYLOAD_TOO_LARGE', `the file is larger than the limit of ${maxBytes} bytes`, {
              maxBytes,
            }),
          )
          return
        }
        hash.update(chunk)
        done(null, chunk)
      },
    })
    const source =
      typeof data === 'string' || Buffer.isBuffer(data) ? Readable.from([Buffer.from(data)]) : data
    try {
      await pipeline(source, meter, createWriteStream(temp, { flags: 'wx' }))
      // A stream cut short by a size limit upstream (multipart) ends without an error; it says so itself.
      if ((source as { truncated?: boolean }).truncated) {
        throw new DocketError('PAYLOAD_TOO_LARGE', `the file is larger than the limit of ${maxBytes} bytes`, {
          maxBytes,
        })
      }
      await rename(temp, path)
    } catch (error) {
      await rm(temp, { force: true })
      throw error
    }
    return { storageKey, size, sha256: hash.digest('hex') }
  }

  /** Stores a job's file and returns the record to write for it. */
  async store(
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
    const bytes = await this.put(file.data, maxBytes)
    return { id: uuidv7(), jobId, direction, name: cleanFileName(file.name), mediaType, ...bytes }
  }

  open(storageKey: string): Readable {
    return createReadStream(this.#path(storageKey))
  }

  async remove(storageKey: string): Promise<void> {
    await rm(this.#path(storageKey), { force: true })
  }
}

/** Media types accepted by default; anything else is 415. */
export const DEFAULT_MEDIA_TYPES = [
  'application/pdf',
  'text/plain',
  'text/csv',
  'text/markdown',
  'application/json',
  'image/png',
  'image/jpeg',
  'image/webp',
  'application/zip',
  'application/octet-stream',
]

/** A name safe to show and to put in Content-Disposition: no directories, no control characters. */
export function cleanFileName(name: string | undefined): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? ''
  const printable = [...base].filter((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f).join('')
  const clean = printable.replace(/^\.+/, '').trim().slice(0, 200)
  return clean === '' ? 'file' : clean
}

/** Refuses a media type outside the allowed list, or a PDF that does not start like one. */
export function checkMediaType(mediaType: string, allowed: string[], head: Buffer | null): void {
  const type = mediaType.split(';')[0]!.trim().toLowerCase()
  if (!allowed.includes(type)) {
    throw new DocketError(
      'UNSUPPORTED_MEDIA_TYPE',
      `media type ${type} is not accepted; allowed: ${allowed.join(', ')}`,
      {
        mediaType: type,
        allowed,
      },
    )
  }
  if (type === 'application/pdf' && head && !head.subarray(0, 5).toString('latin1').startsWith('%PDF-')) {
    throw new DocketError('UNSUPPORTED_MEDIA_TYPE', 'the file is declared application/pdf but is not a PDF', {
      mediaType: type,
    })
  }
}
