/**
 * Artifact bytes in an S3-compatible bucket (AWS S3, MinIO, Ceph, R2, …),
 * chosen with `artifacts: 's3://bucket/prefix'`. Uploads stream through
 * `@aws-sdk/lib-storage` (a multipart upload in parts of 5 MiB, two in flight,
 * so about 10 MiB per upload whatever the file's size); an upload that fails
 * or passes its limit is aborted, and S3 shows an object only once it is
 * complete. Downloads stream the object's body.
 *
 * Credentials, and the endpoint and region unless the location names them,
 * come from the AWS SDK's usual sources: AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL,
 * ~/.aws, instance roles. They are never part of the location, which may be logged.
 *
 * The SDK is an optional peer dependency, loaded only when S3 is chosen.
 */
import { randomUUID } from 'node:crypto'
import { PassThrough, Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { S3Client } from '@aws-sdk/client-s3'
import { DocketError, invalidArgument } from '../core/errors.js'
import { type ArtifactStorage, ByteMeter, keyId, type StoredBytes, type StoredKey } from './storage.js'

export interface S3Location {
  bucket: string
  /** '' or a prefix ending in '/'. */
  prefix: string
  endpoint?: string
  region?: string
  forcePathStyle: boolean
}

const PART_BYTES = 5 * 1024 * 1024

/**
 * Reads `s3://bucket/prefix?endpoint=…&region=…&forcePathStyle=true|false`.
 * Path-style addressing is the default when an endpoint is set (here or in
 * AWS_ENDPOINT_URL[_S3]): S3-compatible servers on a host and port expect it.
 */
export function parseS3Location(location: string, env = process.env): S3Location {
  const bad = (message: string) => invalidArgument(`artifacts: ${message}`, [{ path: 'artifacts', message }])
  let url: URL
  try {
    url = new URL(location)
  } catch {
    throw bad('expected s3://bucket/prefix')
  }
  if (url.protocol !== 's3:' || url.hostname === '') throw bad('expected s3://bucket/prefix')
  if (url.username || url.password)
    throw bad('credentials do not belong in the location: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY')
  const known = new Set(['endpoint', 'region', 'forcePathStyle'])
  const unknown = [...url.searchParams.keys()].filter((k) => !known.has(k))
  if (unknown.length > 0)
    throw bad(`unknown parameter ${unknown.join(', ')} (expected endpoint, region, forcePathStyle)`)
  const endpoint = url.searchParams.get('endpoint') ?? undefined
  if (endpoint !== undefined && !/^https?:\/\/[^/]/.test(endpoint))
    throw bad('endpoint must be an http(s) URL')
  const pathStyle = url.searchParams.get('forcePathStyle')
  if (pathStyle !== null && pathStyle !== 'true' && pathStyle !== 'false')
    throw bad('forcePathStyle must be true or false')
  const anyEndpoint = endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL
  const path = decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, '')
  return {
    bucket: url.hostname,
    prefix: path === '' ? '' : `${path}/`,
    endpoint,
    region: url.searchParams.get('region') ?? undefined,
    forcePathStyle: pathStyle === null ? anyEndpoint !== undefined : pathStyle === 'true',
  }
}

async function loadSdk() {
  try {
    const [s3, storage] = await Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')])
    return { ...s3, Upload: storage.Upload }
  } catch {
    throw new DocketError(
      'INVALID_ARGUMENT',
      'artifacts on S3 need the AWS SDK: npm install @aws-sdk/client-s3 @aws-sdk/lib-storage',
    )
  }
}
type Sdk = Awaited<ReturnType<typeof loadSdk>>

// The SDK's objects stay in ES-private fields, so the published types never name the
// optional SDK: a project without it still type-checks against Docket's declarations.
export class S3ArtifactStorage implements ArtifactStorage {
  readonly #sdk: Sdk
  readonly #client: S3Client

  private constructor(
    sdk: Sdk,
    client: S3Client,
    readonly location: S3Location,
  ) {
    this.#sdk = sdk
    this.#client = client
  }

  /** A client for `location`; refuses at once (rather than at the first upload) when no region can be found. */
  static async open(location: S3Location): Promise<S3ArtifactStorage> {
    const sdk = await loadSdk()
    const client = new sdk.S3Client({
      ...(location.endpoint ? { endpoint: location.endpoint } : {}),
      ...(location.region ? { region: location.region } : {}),
      forcePathStyle: location.forcePathStyle,
    })
    try {
      await client.config.region()
    } catch {
      client.destroy()
      throw invalidArgument('artifacts on S3 need a region: set AWS_REGION or add ?region= to the location', [
        { path: 'artifacts', message: 'no region' },
      ])
    }
    return new S3ArtifactStorage(sdk, client, location)
  }

  newKey(): string {
    return `s3:${randomUUID()}`
  }

  #objectKey(key: string): string {
    return `${this.location.prefix}${keyId(key, 's3')}`
  }

  async put(key: string, data: Readable, { maxBytes }: { maxBytes: number }): Promise<StoredBytes> {
    const Key = this.#objectKey(key)
    const meter = new ByteMeter(maxBytes)
    const body = new PassThrough()
    const upload = new this.#sdk.Upload({
      client: this.#client,
      params: { Bucket: this.location.bucket, Key, Body: body },
      partSize: PART_BYTES,
      queueSize: 2,
      leavePartsOnError: false,
    })
    // Both at once: the upload reads what the pipeline writes. The pipeline's error (a
    // limit passed, the client gone) is the one to report; it also fails the upload's body.
    const [piped, uploaded] = await Promise.allSettled([pipeline(data, meter, body), upload.done()])
    if (piped.status === 'rejected') {
      await upload.abort().catch(() => {})
      if (uploaded.status === 'fulfilled') await this.remove(key).catch(() => {})
      throw piped.reason
    }
    if (uploaded.status === 'rejected') throw uploaded.reason
    return meter.digest()
  }

  open(key: string): Readable {
    const Key = this.#objectKey(key)
    const [client, sdk, location] = [this.#client, this.#sdk, this.location]
    async function* body(): AsyncGenerator<Buffer> {
      const object = await client.send(new sdk.GetObjectCommand({ Bucket: location.bucket, Key }))
      yield* object.Body as Readable
    }
    return Readable.from(body(), { objectMode: false })
  }

  async remove(key: string): Promise<void> {
    await this.#client.send(
      new this.#sdk.DeleteObjectCommand({ Bucket: this.location.bucket, Key: this.#objectKey(key) }),
    )
  }

  async list(): Promise<StoredKey[]> {
    const keys: StoredKey[] = []
    let ContinuationToken: string | undefined
    do {
      const page = await this.#client.send(
        new this.#sdk.ListObjectsV2Command({
          Bucket: this.location.bucket,
          Prefix: this.location.prefix,
          ContinuationToken,
        }),
      )
      // A multipart upload under way is no object yet: nothing here is ever partial.
      for (const o of page.Contents ?? [])
        keys.push({
          key: `s3:${o.Key!.slice(this.location.prefix.length)}`,
          size: o.Size ?? 0,
          partial: false,
        })
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (ContinuationToken)
    return keys.sort((a, b) => (a.key < b.key ? -1 : 1))
  }

  close(): void {
    this.#client.destroy()
  }
}
