import { type Command, InvalidArgumentError, Option } from 'commander'
import type { ConnectionFlags } from './config.js'
import { parseDuration } from './output.js'

export interface CommonFlags extends ConnectionFlags {
  json?: boolean
}

/** --db | --url/--key | --config, and --json: on every command that reads or changes Docket. */
export function withConnection(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--db <url>',
        'database: a SQLite file or postgres://… (env DOCKET_DATABASE_URL; default ./data/docket.db)',
      ),
    )
    .addOption(new Option('--url <url>', 'a Docket server instead of a database (env DOCKET_URL)'))
    .addOption(new Option('--key <key>', 'API key for --url (env DOCKET_KEY)'))
    .addOption(new Option('--config <file>', 'config file with db, url, key (default ./docket.config.json)'))
    .addOption(artifactsOption())
    .addOption(directUrlOption())
    .option('--json', 'print JSON for scripts')
}

/** --artifacts: where files go; every process on one database must say the same. */
export const artifactsOption = () =>
  new Option(
    '--artifacts <where>',
    'where job files go: database (the default on PostgreSQL), s3://bucket/prefix, or a directory (the default on SQLite: artifacts/ beside the file) (env DOCKET_ARTIFACTS)',
  )

/** --direct-url: the database itself, beside a --db that is a pooler's (PgBouncer). */
export const directUrlOption = () =>
  new Option(
    '--direct-url <url>',
    'PostgreSQL behind a pooler: a URL straight to the server, for LISTEN and migrations (env DOCKET_DIRECT_DATABASE_URL)',
  )

export const list = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)

/** A duration above zero ('5s', '24h', or milliseconds; see parseDuration), in milliseconds. */
export function duration(name: string) {
  return (value: string) => {
    const ms = (() => {
      try {
        return parseDuration(value)
      } catch {
        return 0
      }
    })()
    // InvalidArgumentError: commander reports it as a usage error (exit 2), naming the option.
    if (ms <= 0)
      throw new InvalidArgumentError(`${name} must be a duration above 0, such as 5s or 24h, not '${value}'`)
    return ms
  }
}

export function int(name: string) {
  return (value: string) => {
    const n = Number(value)
    if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer, not '${value}'`)
    return n
  }
}
