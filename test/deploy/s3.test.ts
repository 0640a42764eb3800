/**
 * Artifacts on S3-compatible object storage, against a real S3 server the
 * test starts on 127.0.0.1 (s3rver, from npm, keeping its objects in a temp
 * directory): files stream in as multipart uploads and back out whole, an
 * upload past its limit leaves no object, a bad location is refused before
 * anything is stored, and two `docket serve` processes configured by flag
 * and by environment serve each other's files.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import { after, before, describe, it } from 'node:test'
import S3rver from 's3rver'
import { parseS3Location } from '../../src/artifacts/s3.js'
import { DocketError } from '../../src/core/errors.js'
import { Docket } from '../../src/index.js'
import { createKey } from '../../src/server/auth.js'
import { freshPostgresSchema } from '../support/postgres.js'
import { type Served, startServe } from './serve.js'

const MiB = 1024 * 1024
const BUCKET = 'docket-files'
// s3rver's own fixed credentials; the SDK reads them from the environment like any others.
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' }

/** `promise` must reject with a DocketError of `code`; returns it. */
async function expectDocketError(promise: Promise<unknown>, code: string): Promise<DocketError> {
  const error = await promise.then(
    () => assert.fail(`expected ${code}, but it resolved`),
    (e: unknown) => e,
  )
  assert.ok(error instanceof DocketError, `expected a DocketError, got ${String(error)}`)
  assert.equal(error.code, code, error.message)
  return error
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')
async function bytesOf(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const chunk of stream) parts.push(chunk as Buffer)
  return Buffer.concat(parts)
}

describe('deploy: artifacts on S3-compatible storage (s3rver on 127.0.0.1)', () => {
  let server: S3rver
  let endpoint: string
  let location: string
  const dirs: string[] = []
  const saved = { ...process.env }
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'docket-s3-'))
    dirs.push(dir)
    return dir
  }

  before(async () => {
    server = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory: tempDir(),
      configureBuckets: [{ name: BUCKET, configs: [] }],
    })
    const { port } = (await server.run()) as AddressInfo
    endpoint = `http://127.0.0.1:${port}`
    location = `s3://${BUCKET}/docket/files?endpoint=${encodeURIComponent(endpoint)}&region=us-east-1`
    Object.assign(process.env, CREDENTIALS)
  })

  after(async () => {
    process.env = saved
    await server?.close()
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })

  for (const driver of ['sqlite', 'postgres'] as const) {
    it(`stores, streams back and removes files on S3 [${driver}]`, async () => {
      const fresh = driver === 'postgres' ? await freshPostgresSchema() : null
      const url = fresh?.url ?? join(tempDir(), 'docket.db')
      const docket = await Docket.open(url, {
        artifacts: location as `s3://${string}`,
        maxArtifactBytes: 12 * MiB,
      })
      try {
        assert.equal(docket.artifacts.kind, 's3')
        await docket.createQueue({ name: 'scans' })
        const big = randomBytes(11 * MiB + 17) // three multipart parts of 5 MiB
        const small = Buffer.from('a small note')
        const before = await docket.artifacts.list()
        const { job, artifacts } = await docket.addWithFiles({ queue: 'scans', type: 'ocr' }, [
          { name: 'scan.bin', mediaType: 'application/octet-stream', data: Readable.from([big]) },
          { name: 'note.txt', mediaType: 'text/plain', data: small },
        ])
        assert.deepEqual(
          artifacts.map((a) => [a.name, a.size, a.sha256]),
          [
            ['scan.bin', big.length, sha256(big)],
            ['note.txt', small.length, sha256(small)],
          ],
        )
        for (const a of artifacts) assert.match(a.storageKey, /^s3:[0-9a-f-]{36}$/)
        const stored = await docket.artifacts.list()
        assert.equal(stored.length, before.length + 2)
        assert.ok(stored.some((k) => k.key === artifacts[0]!.storageKey && k.size === big.length))

        const back = await docket.openArtifact(artifacts[0]!.id)
        assert.ok((await bytesOf(back.stream)).equals(big), 'the file comes back byte for byte')
        assert.equal(await text((await docket.openArtifact(artifacts[1]!.id)).stream), 'a small note')

        // Past the limit: PAYLOAD_TOO_LARGE, and neither the job nor any object is left.
        const jobs = (await docket.countJobs()).scans
        await expectDocketError(
          docket.addWithFiles({ queue: 'scans', type: 'ocr' }, [
            {
              name: 'huge.bin',
              mediaType: 'application/octet-stream',
              data: Readable.from([randomBytes(13 * MiB)]),
            },
          ]),
          'PAYLOAD_TOO_LARGE',
        )
        assert.deepEqual((await docket.countJobs()).scans, jobs)
        assert.deepEqual(await docket.artifacts.list(), stored, 'a refused upload left an object behind')

        // A worker's output goes to the bucket too.
        const [claimed] = await docket.workers.claim({ queues: ['scans'], workerId: 'w-s3', limit: 1 })
        assert.equal(claimed!.id, job.id)
        const output = await docket.workers.saveOutput(claimed!, {
          name: 'out.json',
          mediaType: 'application/json',
          data: '{"ok":true}',
        })
        assert.match(output.storageKey, /^s3:/)
        assert.equal(await text((await docket.openArtifact(output.id)).stream), '{"ok":true}')

        await docket.artifacts.remove(artifacts[1]!.storageKey)
        assert.ok(!(await docket.artifacts.list()).some((k) => k.key === artifacts[1]!.storageKey))
      } finally {
        await docket.close()
        await fresh?.drop()
      }
    })
  }

  it('refuses a bad location before storing anything, naming what is wrong', async () => {
    const db = join(tempDir(), 'docket.db')
    const cases: [string, RegExp][] = [
      ['s3://', /s3:\/\/bucket\/prefix/],
      [`s3://key:secret@${BUCKET}/x`, /credentials do not belong in the location/],
      [`s3://${BUCKET}/x?bucket=other`, /unknown parameter bucket/],
      [`s3://${BUCKET}/x?endpoint=ftp://host`, /endpoint must be an http\(s\) URL/],
      [`s3://${BUCKET}/x?forcePathStyle=yes`, /forcePathStyle must be true or false/],
    ]
    for (const [bad, message] of cases) {
      const error = await expectDocketError(
        Docket.open(db, { artifacts: bad as `s3://${string}` }),
        'INVALID_ARGUMENT',
      )
      assert.match(error.message, message, bad)
    }
    await expectDocketError(Docket.open(db, { artifacts: 'ftp://x' as never }), 'INVALID_ARGUMENT')
    await expectDocketError(Docket.open(db, { artifacts: 'database' }), 'INVALID_ARGUMENT')

    // No region anywhere: refused at open, not at the first upload.
    const { AWS_REGION, AWS_DEFAULT_REGION, ...rest } = process.env
    process.env = {
      ...rest,
      AWS_CONFIG_FILE: join(tempDir(), 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(tempDir(), 'none'),
    }
    try {
      const error = await expectDocketError(
        Docket.open(db, { artifacts: `s3://${BUCKET}/x?endpoint=${encodeURIComponent(endpoint)}` }),
        'INVALID_ARGUMENT',
      )
      assert.match(error.message, /need a region/)
    } finally {
      process.env = { ...rest, AWS_REGION, AWS_DEFAULT_REGION }
      if (AWS_REGION === undefined) delete process.env.AWS_REGION
      if (AWS_DEFAULT_REGION === undefined) delete process.env.AWS_DEFAULT_REGION
    }
  })

  it('reads path-style addressing, prefix and region from the location, the endpoint also from AWS_ENDPOINT_URL', () => {
    assert.deepEqual(parseS3Location('s3://b/some/prefix/', {}), {
      bucket: 'b',
      prefix: 'some/prefix/',
      endpoint: undefined,
      region: undefined,
      forcePathStyle: false,
    })
    assert.equal(
      parseS3Location('s3://b', { AWS_ENDPOINT_URL: 'http://127.0.0.1:9000' }).forcePathStyle,
      true,
    )
    assert.equal(parseS3Location('s3://b?forcePathStyle=false&endpoint=http://h:1', {}).forcePathStyle, false)
    assert.equal(parseS3Location('s3://b?region=eu-west-1', {}).region, 'eu-west-1')
  })

  it('two docket serve processes, set up by --artifacts and by DOCKET_ARTIFACTS, serve each other’s files', async () => {
    const fresh = await freshPostgresSchema()
    let a: Served | undefined
    let b: Served | undefined
    try {
      const setup = await Docket.open(fresh.url)
      await setup.createQueue({ name: 'shared' })
      const key = (await createKey(setup, 'alice', 'user')).key
      await setup.close()
      ;[a, b] = await Promise.all([
        startServe(['--db', fresh.url, '--artifacts', location], { cwd: tempDir(), env: CREDENTIALS }),
        startServe(['--db', fresh.url], {
          cwd: tempDir(),
          env: { ...CREDENTIALS, DOCKET_ARTIFACTS: location },
        }),
      ])
      for (const s of [a, b]) assert.match(s.output(), /files in s3/)
      const bytes = randomBytes(6 * MiB)
      const form = new FormData()
      form.set('job', JSON.stringify({ queue: 'shared', type: 'scan' }))
      form.set('file', new Blob([bytes], { type: 'application/octet-stream' }), 'scan.bin')
      const auth = { authorization: `Bearer ${key}` }
      const added = await fetch(`${a.base}/api/v1/jobs/upload`, { method: 'POST', headers: auth, body: form })
      const body = (await added.json()) as { artifacts: { id: string }[] }
      assert.equal(added.status, 201, JSON.stringify(body))
      const download = await fetch(`${b.base}/api/v1/artifacts/${body.artifacts[0]!.id}`, { headers: auth })
      assert.equal(download.status, 200)
      assert.ok(Buffer.from(await download.arrayBuffer()).equals(bytes), 'B streams the file A put on S3')
      for (const s of [a, b]) assert.ok(!s.output().includes('S3RVER'), 'credentials reached the log')
    } finally {
      await Promise.all([a?.stop(), b?.stop()])
      await fresh.drop()
    }
  })
})
