/**
 * Artifact bytes in the database (PostgreSQL): every server on the database
 * reads every file, and `pg_dump --schema=docket` backs them up with the jobs.
 *
 * A file is a blob row and chunks of at most 1 MiB, one `bytea` row each
 * (store.ts `BlobStore`, SQL in storage/postgres/blobs.ts). Chunks rather
 * than large objects: each chunk is one short statement on any pooled
 * connection, so an upload that takes minutes holds no connection or
 * transaction open (and works behind a transaction-mode pooler); the rows
 * live in Docket's schema and go with it (large objects live database-wide
 * in pg_largeobject, need lo_unlink, and `pg_dump --schema` leaves them out).
 * Memory stays bounded either way: one chunk in, one chunk out.
 */

import { randomUUID } from 'node:crypto'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { DocketError } from '../core/errors.js'
import type { BlobStore } from '../storage/store.js'
import { type ArtifactStorage, ByteMeter, keyId, type StoredBytes, type StoredKey } from './storage.js'

export const CHUNK_BYTES = 1024 * 1024

export class DatabaseArtifactStorage implements ArtifactStorage {
  constructor(
    readonly blobs: BlobStore,
    readonly chunkBytes = CHUNK_BYTES,
  ) {}

  newKey(): string {
    return `db:${randomUUID()}`
  }

  async put(key: string, data: Readable, { maxBytes }: { maxBytes: number }): Promise<StoredBytes> {
    keyId(key, 'db')
    await this.blobs.startBlob(key)
    const meter = new ByteMeter(maxBytes)
    try {
      await pipeline(
        data,
        meter,
        new ChunkWriter(this.chunkBytes, (seq, chunk) => this.blobs.writeChunk(key, seq, chunk)),
      )
      const bytes = meter.digest()
      await this.blobs.finishBlob(key, bytes.size, bytes.sha256)
      return bytes
    } catch (error) {
      await this.blobs.deleteBlob(key).catch(() => {})
      throw error
    }
  }

  open(key: string): Readable {
    keyId(key, 'db')
    const blobs = this.blobs
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let seq = 0; ; seq++) {
        const chunk = await blobs.readChunk(key, seq)
        if (chunk !== null) {
          yield chunk
          continue
        }
        // An empty file has no chunk at all; a missing one has no finished blob either.
        if (seq === 0 && !(await blobs.hasBlob(key)))
          throw new DocketError('NOT_FOUND', 'the artifact’s bytes are not in the database')
        return
      }
    }
    return Readable.from(chunks(), { objectMode: false })
  }

  async remove(key: string): Promise<void> {
    keyId(key, 'db')
    await this.blobs.deleteBlob(key)
  }

  list(): Promise<StoredKey[]> {
    return this.blobs.listBlobs()
  }
}

/** Gathers the bytes written to it into chunks of `size` (the last one shorter) and hands each to `write`, in order. */
class ChunkWriter extends Writable {
  #parts: Buffer[] = []
  #length = 0
  #seq = 0

  constructor(
    readonly size: number,
    readonly write_: (seq: number, chunk: Buffer) => Promise<void>,
  ) {
    super()
  }

  override _write(data: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.#parts.push(data)
    this.#length += data.length
    this.#flush(false).then(() => done(), done)
  }

  override _final(done: (error?: Error | null) => void): void {
    this.#flush(true).then(() => done(), done)
  }

  async #flush(last: boolean): Promise<void> {
    while (this.#length >= this.size || (last && this.#length > 0)) {
      const all = Buffer.concat(this.#parts, this.#length)
      const chunk = all.subarray(0, Math.min(this.size, all.length))
      const rest = all.subarray(chunk.length)
      this.#parts = rest.length > 0 ? [rest] : []
      this.#length = rest.length
      await this.write_(this.#seq++, chunk)
    }
  }
}
