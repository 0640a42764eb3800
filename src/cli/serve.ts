/** `docket serve`: the HTTP API on a database, with maintenance and, optionally, an in-process worker. */
import { randomUUID } from 'node:crypto'
import { mkdir, open, rm } from 'node:fs/promises'
import { isIP } from 'node:net'
import { hostname } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { InvalidArgumentError } from 'commander'
import { Docket, type DocketOptions } from '../docket.js'
import { buildApp } from '../server/app.js'
import { createKey } from '../server/auth.js'
import { accessOf } from '../server/internals.js'
import { parseDatabaseUrl } from '../storage/open.js'
import { Maintenance } from '../worker/maintenance.js'
import { type Handler, Worker } from '../worker/worker.js'

export interface ServeOptions {
  host: string
  port: number
  db: string | undefined
  /** Where artifacts go and the direct URL beside a pooled one (DocketOptions). */
  docket?: DocketOptions
  auth: boolean
  /** See AppOptions.trustProxy. */
  trustProxy: boolean | string
  /** See AppOptions.publicUrl. */
  publicUrl?: string
  worker?: string
  /** See AppOptions.credentialRecheckMs. */
  credentialRecheckMs?: number
  /** See AppOptions.feeds. */
  feeds?: { perKey?: number; total?: number }
  /** See MaintenanceOptions.workerRetentionMs. */
  workerRetentionMs?: number
  logLevel: string
  /** 'auto' (the default): pretty on a terminal, JSON lines otherwise. */
  logFormat?: 'auto' | 'json' | 'pretty'
}

/** The server's pino options: JSON lines for machines, or pino-pretty's one line per entry on a terminal. */
export async function loggerOptions(
  level: string,
  format: ServeOptions['logFormat'] = 'auto',
): Promise<object> {
  const pretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true)
  if (!pretty) return { level }
  const { default: PinoPretty } = await import('pino-pretty')
  // The request line's message says it all; its fields stay in the JSON form only.
  const stream = PinoPretty({
    colorize: process.stdout.isTTY === true,
    ignore: 'pid,hostname,reqId,method,path,status,ms',
  })
  return { level, stream }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1'])
const RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal'])

/** `--trust-proxy`: true or false, or a comma-separated list of addresses, CIDR ranges and range names. */
export function parseTrustProxy(value: string): boolean | string {
  if (value === 'true' || value === 'false') return value === 'true'
  const entries = value.split(',').map((s) => s.trim())
  const bad = entries.filter((entry) => {
    if (RANGE_NAMES.has(entry)) return false
    const [address, bits, ...rest] = entry.split('/')
    const family = isIP(address ?? '')
    if (family === 0 || rest.length > 0) return true
    if (bits === undefined) return false
    const n = Number(bits)
    return !/^\d+$/.test(bits) || n > (family === 4 ? 32 : 128)
  })
  if (bad.length > 0)
    throw new InvalidArgumentError(
      `not an address, CIDR range or range name: ${bad.map((b) => JSON.stringify(b)).join(', ')} (expected e.g. 10.0.0.1,10.1.0.0/16 or loopback, or true)`,
    )
  return entries.join(',')
}

/** A worker module exports `queues` (names, created if missing) and `handlers` (by job type). */
interface WorkerModule {
  queues: (string | { name: string; [option: string]: unknown })[]
  handlers: Record<string, Handler>
  concurrency?: number
  /** Called once the worker runs, to add example jobs. */
  seed?: (docket: Docket) => Promise<void>
}

/** The file, in the data directory, that holds the first start's admin key when stdout is not a terminal. */
export const FIRST_KEY_FILE = 'first-admin-key'

/** The data directory: the SQLite file's folder, else ./data (where local artifacts go by default too). */
export function dataDirectory(db: string | undefined): string {
  const target = parseDatabaseUrl(db)
  return target.driver === 'sqlite' && target.path !== ':memory:' ? dirname(target.path) : resolve('data')
}

/**
 * First start on a database with no API key: creates an admin key and hands
 * it over once. On a terminal it is printed. Otherwise stdout is most likely
 * a log (systemd, a container, CI), where a key would be kept and read by
 * whoever reads the logs; so it goes to a file only this user can read
 * (0600, in the data directory), and the output says where. The file is
 * opened before the key exists, so a directory that cannot hold it fails
 * the start without leaving a key nobody has.
 */
export async function announceFirstKey(
  docket: Docket,
  o: { db: string | undefined; terminal: boolean; log?: (line: string) => void },
): Promise<{ key: string; file: string | null }> {
  const log = o.log ?? ((line: string) => console.log(line))
  if (o.terminal) {
    const { key } = await createKey(docket, 'admin', 'admin')
    log(`First start: created an admin API key. It is shown only this once, so keep it now:\n\n  ${key}\n`)
    return { key, file: null }
  }
  const file = join(dataDirectory(o.db), FIRST_KEY_FILE)
  await mkdir(dirname(file), { recursive: true, mode: 0o700 })
  // A file left by an earlier database goes; 'wx' then creates a new one and
  // refuses to follow anything planted at that name meanwhile (a symlink).
  await rm(file, { force: true })
  const handle = await open(file, 'wx', 0o600)
  try {
    const { key } = await createKey(docket, 'admin', 'admin')
    await handle.writeFile(`${key}\n`)
    log(
      `First start: created an admin API key and wrote it to ${file} (readable by this user only; not printed, so that it stays out of logs). Keep it somewhere safe, then delete the file.`,
    )
    return { key, file }
  } finally {
    await handle.close()
  }
}

export async function serve(o: ServeOptions): Promise<void> {
  if (!o.auth && !LOOPBACK.has(o.host)) {
    throw new Error(`--no-auth is only allowed on a loopback address, not ${o.host}`)
  }
  const docket = await Docket.open(o.db, o.docket)
  const app = await buildApp({
    docket,
    auth: o.auth ? 'keys' : 'none',
    trustProxy: o.trustProxy,
    ...(o.publicUrl === undefined ? {} : { publicUrl: o.publicUrl }),
    ...(o.credentialRecheckMs === undefined ? {} : { credentialRecheckMs: o.credentialRecheckMs }),
    ...(o.feeds === undefined ? {} : { feeds: o.feeds }),
    logger: await loggerOptions(o.logLevel, o.logFormat),
  })
  const maintenance = new Maintenance(docket, {
    // Unique per process even where two hosts share a name and a pid (containers: pid 1).
    holder: `serve:${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    onError: (e) => app.log.error(e),
    ...(o.workerRetentionMs === undefined ? {} : { workerRetentionMs: o.workerRetentionMs }),
  })
  maintenance.start()

  let worker: Worker | null = null
  if (o.worker) {
    const mod = (await import(pathToFileURL(resolve(o.worker)).href)) as WorkerModule
    const names: string[] = []
    for (const q of mod.queues) {
      const spec = typeof q === 'string' ? { name: q } : q
      await docket.getQueue(spec.name).catch(() => docket.createQueue(spec as never))
      names.push(spec.name)
    }
    worker = await new Worker(docket, {
      queues: names,
      handlers: mod.handlers,
      concurrency: mod.concurrency ?? 2,
      onError: (e) => app.log.error(e),
    }).start()
    await mod.seed?.(docket)
  }

  await app.listen({ host: o.host, port: o.port })
  const url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port}`
  console.log(
    `Docket is serving ${url} (API ${url}/api/v1, docs ${url}/docs) on ${docket.driver}, files in ${docket.artifacts.kind === 'local' ? docket.artifacts.local.root : docket.artifacts.kind}${worker ? `, with worker ${worker.id}` : ''}`,
  )
  if (!o.auth) {
    console.warn('WARNING: authentication is OFF (--no-auth): anyone who can reach this address is an admin.')
  } else if ((await accessOf(docket).listApiKeys()).length === 0) {
    await announceFirstKey(docket, { db: o.db, terminal: process.stdout.isTTY === true })
  }

  const stop = async () => {
    await app.close()
    await worker?.close()
    await maintenance.stop()
    await docket.close()
    process.exit(0)
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}
