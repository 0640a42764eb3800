/**
 * Which backend holds a Docket's artifact bytes. New files go to one backend,
 * chosen by the `artifacts` option; every file is read from (and removed
 * from) the backend its key names, so records written before the choice
 * changed stay readable:
 *
 * - `'database'`: in the database (PostgreSQL only). PostgreSQL's default,
 *   so that any number of servers on one database serve every file.
 * - `'local'`: the directory `artifactsDir`. SQLite's default. On PostgreSQL,
 *   only for a single server (or a directory every server mounts).
 * - `'s3://bucket/prefix'`: an S3-compatible bucket (s3.ts).
 *
 * Local keys (`ab/<uuid>`, what every version before this one wrote) are
 * always read from `artifactsDir`, whatever the choice.
 */
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import type { Readable } from 'node:stream'
import { DocketError, invalidArgument } from '../core/errors.js'
import type { DatabaseTarget } from '../storage/open.js'
import type { Store } from '../storage/store.js'
import { DatabaseArtifactStorage } from './database.js'
import { parseS3Location, S3ArtifactStorage } from './s3.js'
import { type ArtifactStorage, LocalArtifactStorage, type StoredBytes, type StoredKey } from './storage.js'

export interface ArtifactOptions {
  artifacts?: string
  artifactsDir?: string
}

/** Where local files go when `artifactsDir` is not given: `artifacts/` beside a SQLite file, else ./data/artifacts. */
export function defaultArtifactsDir(target: DatabaseTarget): string {
  if (target.driver === 'postgres') return resolve('data', 'artifacts')
  if (target.path === ':memory:') return join(tmpdir(), `docket-artifacts-${process.pid}`)
  return join(dirname(target.path), 'artifacts')
}

export async function openArtifactStorage(
  options: ArtifactOptions,
  target: DatabaseTarget,
  store: Store,
): Promise<ArtifactRouter> {
  const local = new LocalArtifactStorage(options.artifactsDir ?? defaultArtifactsDir(target))
  const database = store.blobs ? new DatabaseArtifactStorage(store.blobs) : null
  const where = options.artifacts ?? (database ? 'database' : 'local')
  if (where === 'local') return new ArtifactRouter(local, local, database, null)
  if (where === 'database') {
    if (!database)
      throw invalidArgument(
        `artifacts: 'database' needs PostgreSQL; on ${store.driver}, use 'local' or s3://`,
        [{ path: 'artifacts', message: 'the database cannot hold files' }],
      )
    return new ArtifactRouter(database, local, database, null)
  }
  const s3 = await S3ArtifactStorage.open(parseS3Location(where))
  return new ArtifactRouter(s3, local, database, s3)
}

/** Puts new files in `primary`; reads and removes each file where its key's scheme says. */
export class ArtifactRouter implements ArtifactStorage {
  constructor(
    readonly primary: ArtifactStorage,
    readonly local: LocalArtifactStorage,
    readonly database: DatabaseArtifactStorage | null,
    readonly s3: S3ArtifactStorage | null,
  ) {}

  /** Which backend new files go to. */
  get kind(): 'local' | 'database' | 's3' {
    return this.primary === this.local ? 'local' : this.primary === this.database ? 'database' : 's3'
  }

  #backend(key: string): ArtifactStorage {
    const scheme = /^([a-z0-9]+):/.exec(key)?.[1]
    if (scheme === undefined) return this.local
    const backend = scheme === 'db' ? this.database : scheme === 's3' ? this.s3 : null
    if (!backend)
      throw new DocketError(
        'INVALID_ARGUMENT',
        scheme === 's3'
          ? 'this file is on S3, and this Docket has no S3 location: open it with the same artifacts option as the server that stored it'
          : `no artifact storage here holds '${scheme}:' keys`,
      )
    return backend
  }

  newKey(): string {
    return this.primary.newKey()
  }

  put(key: string, data: Readable, options: { maxBytes: number }): Promise<StoredBytes> {
    return this.#backend(key).put(key, data, options)
  }

  open(key: string): Readable {
    return this.#backend(key).open(key)
  }

  remove(key: string): Promise<void> {
    return this.#backend(key).remove(key)
  }

  /** Every key in every backend this Docket reaches. */
  async list(): Promise<StoredKey[]> {
    const all = await Promise.all(
      [this.local, this.database, this.s3].filter((b) => b !== null).map((b) => b.list()),
    )
    return all.flat()
  }

  close(): void {
    this.s3?.close()
  }
}
