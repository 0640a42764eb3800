/**
 * Where the CLI connects, from flags, then the environment, then a config
 * file (--config, else ./docket.config.json, else ~/.config/docket/config.json):
 * a database (db) directly, or a server (url, with key). With a database,
 * also where artifact files go (artifacts) and, behind a pooler, the direct
 * URL beside it (directUrl): every process on one database must agree on those.
 */
import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { Docket, type DocketOptions } from '../docket.js'
import { type Client, DirectClient, HttpClient } from './client.js'

export interface ConnectionFlags {
  db?: string
  url?: string
  key?: string
  config?: string
  artifacts?: string
  directUrl?: string
}

interface Settings {
  db?: string
  url?: string
  key?: string
  artifacts?: string
  directUrl?: string
}

const SETTINGS = ['db', 'url', 'key', 'artifacts', 'directUrl']

export class UsageError extends Error {}

function readConfigFile(path: string | undefined): Settings {
  const candidates = path
    ? [resolve(path)]
    : [resolve('docket.config.json'), join(homedir(), '.config', 'docket', 'config.json')]
  for (const file of candidates) {
    if (!existsSync(file)) {
      if (path) throw new UsageError(`config file ${file} does not exist`)
      continue
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'))
    } catch (error) {
      throw new UsageError(`config file ${file} is not valid JSON: ${(error as Error).message}`)
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new UsageError(`config file ${file} must hold a JSON object`)
    const unknown = Object.keys(parsed).filter((k) => !SETTINGS.includes(k))
    if (unknown.length > 0)
      throw new UsageError(
        `config file ${file}: unknown setting ${unknown.join(', ')} (expected ${SETTINGS.join(', ')})`,
      )
    return parsed as Settings
  }
  return {}
}

/** The settings in force, each from the first of flags, environment, file that has it. */
export function resolveSettings(
  flags: ConnectionFlags,
  env = process.env,
): Settings & { target: 'db' | 'url' } {
  const file = readConfigFile(flags.config)
  const levels: Settings[] = [
    { db: flags.db, url: flags.url, key: flags.key, artifacts: flags.artifacts, directUrl: flags.directUrl },
    {
      db: env.DOCKET_DATABASE_URL,
      url: env.DOCKET_URL,
      key: env.DOCKET_KEY,
      artifacts: env.DOCKET_ARTIFACTS,
      directUrl: env.DOCKET_DIRECT_DATABASE_URL,
    },
    file,
  ]
  // The first level that names a target decides it; at one level a server URL wins.
  const decisive = levels.find((l) => l.url || l.db)
  const target = decisive?.url ? 'url' : 'db'
  const pick = (k: keyof Settings) => levels.find((l) => l[k])?.[k]
  return {
    target,
    db: decisive?.db ?? pick('db'),
    url: decisive?.url,
    key: pick('key'),
    artifacts: pick('artifacts'),
    directUrl: pick('directUrl'),
  }
}

/**
 * The Docket options the settings name: `artifacts` is 'database', 'local',
 * s3://bucket/prefix, or a directory (local files there).
 */
export function docketOptions(s: Settings): DocketOptions {
  const options: DocketOptions = {}
  if (s.directUrl) options.directUrl = s.directUrl
  if (s.artifacts === 'database' || s.artifacts === 'local' || s.artifacts?.startsWith('s3://'))
    options.artifacts = s.artifacts as DocketOptions['artifacts']
  else if (s.artifacts) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s.artifacts))
      throw new UsageError(
        `--artifacts: expected database, local, s3://bucket/prefix or a directory, not ${s.artifacts}`,
      )
    options.artifacts = 'local'
    options.artifactsDir = resolve(s.artifacts)
  }
  return options
}

/** Opens the database the settings name, with their artifact storage and direct URL. */
export function openDocket(s: Settings, options: { migrate?: boolean } = {}): Promise<Docket> {
  return Docket.open(s.db, { ...docketOptions(s), ...options })
}

export async function connect(flags: ConnectionFlags): Promise<Client> {
  const s = resolveSettings(flags)
  if (s.target === 'url') return new HttpClient(s.url!, s.key)
  return new DirectClient(await openDocket(s))
}
