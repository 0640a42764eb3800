/**
 * Where the CLI connects, from flags, then the environment, then a config
 * file (--config, else ./docket.config.json, else ~/.config/docket/config.json):
 * a database (db) directly, or a server (url, with key).
 */
import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { Docket } from '../docket.js'
import { type Client, DirectClient, HttpClient } from './client.js'

export interface ConnectionFlags {
  db?: string
  url?: string
  key?: string
  config?: string
}

interface Settings {
  db?: string
  url?: string
  key?: string
}

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
    const unknown = Object.keys(parsed).filter((k) => !['db', 'url', 'key'].includes(k))
    if (unknown.length > 0)
      throw new UsageError(
        `config file ${file}: unknown setting ${unknown.join(', ')} (expected db, url, key)`,
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
    { db: flags.db, url: flags.url, key: flags.key },
    { db: env.DOCKET_DATABASE_URL, url: env.DOCKET_URL, key: env.DOCKET_KEY },
    file,
  ]
  // The first level that names a target decides it; at one level a server URL wins.
  const decisive = levels.find((l) => l.url || l.db)
  const target = decisive?.url ? 'url' : 'db'
  const pick = (k: keyof Settings) => levels.find((l) => l[k])?.[k]
  return { target, db: decisive?.db ?? pick('db'), url: decisive?.url, key: pick('key') }
}

export async function connect(flags: ConnectionFlags): Promise<Client> {
  const s = resolveSettings(flags)
  if (s.target === 'url') return new HttpClient(s.url!, s.key)
  return new DirectClient(await Docket.open(s.db))
}
