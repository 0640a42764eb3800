/** docket serve, worker, migrate, cleanup, keys: the commands that need the database itself. */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { type Command, InvalidArgumentError, Option } from 'commander'
import { isUpToDate, latestVersion, schemaRefusal } from '../../core/schema.js'
import type { Docket } from '../../docket.js'
import { checkPublicUrl } from '../../server/app.js'
import { inspectDatabase } from '../../storage/schema.js'
import type { Role } from '../../storage/store.js'
import { type Handler, Worker } from '../../worker/worker.js'
import { docketOptions, openDocket, resolveSettings, UsageError } from '../config.js'
import {
  artifactsOption,
  type CommonFlags,
  directUrlOption,
  duration,
  int,
  list,
  withConnection,
} from '../options.js'
import { parseDuration, print, printTable } from '../output.js'
import { parseTrustProxy, serve } from '../serve.js'
import { run } from './jobs.js'

const dbOption = () =>
  new Option(
    '--db <url>',
    'database: a SQLite file or postgres://… (env DOCKET_DATABASE_URL; default ./data/docket.db)',
  )
const configOption = () => new Option('--config <file>', 'config file with db (default ./docket.config.json)')

type DbFlags = { db?: string; config?: string; artifacts?: string; directUrl?: string }

/** The database flags of these commands: --db, --config, --artifacts, --direct-url. */
const withDbOptions = (command: Command): Command =>
  command
    .addOption(dbOption())
    .addOption(configOption())
    .addOption(artifactsOption())
    .addOption(directUrlOption())

/** Opens the database named by --db, the environment or the config file; these commands cannot work through a server. */
async function openDb(o: DbFlags, options: { migrate?: boolean } = {}): Promise<Docket> {
  const s = resolveSettings({ db: o.db, config: o.config, artifacts: o.artifacts, directUrl: o.directUrl })
  if (s.target === 'url' && !o.db)
    throw new UsageError('this command works on the database itself: give --db (a server URL is not enough)')
  return openDocket(s, options)
}

const noMigrateOption = () =>
  new Option(
    '--no-migrate',
    'never change the schema: refuse (SCHEMA_OLDER) if it is behind; run `docket migrate` first',
  )

async function withDb(o: DbFlags, fn: (d: Docket) => Promise<void>): Promise<void> {
  const docket = await openDb(o)
  try {
    await fn(docket)
  } finally {
    await docket.close()
  }
}

/** The database's schema as it is, without opening a Docket (which would migrate it). */
async function inspectDb(o: DbFlags) {
  const s = resolveSettings({ db: o.db, config: o.config, artifacts: o.artifacts, directUrl: o.directUrl })
  if (s.target === 'url' && !o.db)
    throw new UsageError('this command works on the database itself: give --db (a server URL is not enough)')
  return inspectDatabase(s.db, { directUrl: s.directUrl })
}

function printSteps(steps: { label: string; sql: string }[]): void {
  if (steps.length === 0) console.log('-- nothing to do: the schema is up to date')
  for (const step of steps) console.log(`-- ${step.label}\n${step.sql.trimEnd()}\n`)
}

type Inspected = Awaited<ReturnType<typeof inspectDb>>

function statusJson(r: Inspected) {
  const pending = new Set(r.plan.pending.map((m) => m.version))
  return {
    driver: r.driver,
    where: r.where,
    docketVersion: r.code.docketVersion,
    databaseVersion: r.plan.databaseVersion,
    codeVersion: latestVersion(r.code),
    upToDate: isUpToDate(r.plan),
    applied: r.code.migrations
      .filter((m) => !pending.has(m.version))
      .map((m) => ({ version: m.version, name: m.name })),
    pending: r.plan.pending,
    unknown: r.plan.unknownVersions,
    functions: r.plan.functions,
  }
}

function printStatus(r: Inspected): void {
  const s = statusJson(r)
  console.log(`database: ${r.driver}, ${r.where}`)
  console.log(
    `schema: migration ${s.databaseVersion}; this Docket ${s.docketVersion} knows up to ${s.codeVersion}` +
      (s.unknown.length > 0
        ? ` — NEWER: ${s.unknown.join(', ')} applied by a newer Docket; upgrade this one`
        : s.upToDate
          ? ' — up to date'
          : ' — behind: run `docket migrate`'),
  )
  console.log(
    `applied: ${s.applied.length}${s.applied.length ? ` (${s.applied.at(-1)?.version} ${s.applied.at(-1)?.name} last)` : ''}`,
  )
  console.log(`pending: ${s.pending.length === 0 ? 'none' : s.pending.length}`)
  for (const m of s.pending) console.log(`  ${String(m.version).padStart(4, '0')} ${m.name}`)
  if (r.driver === 'postgres') {
    console.log('functions:')
    printTable(
      s.functions.map((f) => ({ name: f.name, state: f.state, 'written by': f.recordedBy ?? '-' })),
      ['name', 'state', 'written by'],
    )
  }
}

/** `--public-url`: an http(s) URL; its origin is what counts. */
const publicUrl = (value: string) => {
  try {
    return checkPublicUrl(value)
  } catch {
    throw new InvalidArgumentError('expected an http:// or https:// URL, e.g. https://docket.example.com')
  }
}

const port = (value: string) => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('expected a port number, 0-65535')
  return n
}

export function registerAdminCommands(program: Command): void {
  withDbOptions(
    program
      .command('serve')
      .description('Serve the HTTP API, the dashboard and /docs on a database; runs migrations first'),
  )
    .addOption(noMigrateOption())
    .addOption(new Option('--host <host>', 'address to listen on').default('127.0.0.1').env('DOCKET_HOST'))
    .addOption(
      new Option('--port <port>', 'port to listen on').default(8080).argParser(port).env('DOCKET_PORT'),
    )
    .option('--no-auth', 'no API keys: every caller is an admin (loopback addresses only)')
    .addOption(
      new Option(
        '--trust-proxy <proxies>',
        'believe X-Forwarded-For/-Proto/-Host from these reverse proxies: addresses or CIDR ranges, comma-separated (loopback, linklocal, uniquelocal name the usual ones), or true for any',
      )
        .argParser(parseTrustProxy)
        .env('DOCKET_TRUST_PROXY'),
    )
    .addOption(
      new Option(
        '--public-url <url>',
        'the URL browsers reach the dashboard at (https://docket.example.com): the Origin check compares with it, not with the request’s Host or X-Forwarded-Host',
      )
        .argParser(publicUrl)
        .env('DOCKET_PUBLIC_URL'),
    )
    .option(
      '--worker <module>',
      'also run a worker in this process, with the queues and handlers the module exports',
    )
    .addOption(
      new Option(
        '--credential-recheck <duration>',
        'how often an open live feed checks that its key, session or viewer token is still valid',
      )
        .default(5_000, '5s')
        .argParser(duration('--credential-recheck')),
    )
    .addOption(
      new Option('--feeds-per-key <n>', 'live feeds (SSE, WebSocket) one key may keep open on this server')
        .default(20)
        .argParser(int('--feeds-per-key')),
    )
    .addOption(
      new Option('--feeds <n>', 'live feeds this server keeps open in all')
        .default(1000)
        .argParser(int('--feeds')),
    )
    .addOption(
      new Option(
        '--search-timeout <duration>',
        'how long a job list with search or where may run before it is refused (default: 2s on SQLite, 10s on PostgreSQL)',
      ).argParser(duration('--search-timeout')),
    )
    .addOption(
      new Option(
        '--worker-retention <duration>',
        'how long stopped and lost workers stay listed after they were last heard from',
      )
        .default(24 * 3600_000, '24h')
        .argParser(duration('--worker-retention')),
    )
    .addOption(
      new Option('--log-level <level>', 'log level')
        .default('info')
        .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace']),
    )
    .addOption(
      new Option('--log-format <format>', 'auto: pretty on a terminal, JSON lines otherwise')
        .default('auto')
        .choices(['auto', 'json', 'pretty']),
    )
    .addHelpText(
      'after',
      `
API keys: the first start on an empty database creates an admin key. On a
terminal it is printed once; otherwise (a log) it is written to first-admin-key
in the data directory (beside the SQLite file, else ./data), readable by its
owner only, and only that path is printed. An admin manages keys through
this server (GET/POST /api/v1/keys, DELETE /api/v1/keys/{id}, or \`docket keys create|list|revoke --url <server> --key <admin key>\`)
or on the database (\`docket keys … --db\`). Behind a TLS-terminating reverse proxy,
give --trust-proxy with the proxy's address, so that client addresses, HTTPS
(the Secure cookie flag) and the public host are taken from its X-Forwarded-* headers,
and --public-url with the URL browsers use, so that the Origin check of the
dashboard's changes compares with it rather than with X-Forwarded-Host.

Several servers on one PostgreSQL database, behind a load balancer: files are
kept in the database by default (or give every server the same --artifacts
s3://bucket/prefix), sessions are in the database. Behind PgBouncer in
transaction mode: --db 'postgres://…@pgbouncer:6432/db?pooler=transaction'
--direct-url postgres://…@postgres:5432/db. See docs/operations.md.

Logs: one line per request at info (method, path, status, ms), none at warn
and above; pretty on a terminal, JSON lines otherwise (--log-format).`,
    )
    .action(async (o) => {
      const s = resolveSettings({
        db: o.db,
        config: o.config,
        artifacts: o.artifacts,
        directUrl: o.directUrl,
      })
      await serve({
        host: o.host,
        port: o.port,
        db: s.db,
        docket: {
          ...docketOptions(s),
          migrate: o.migrate,
          ...(o.searchTimeout === undefined ? {} : { searchTimeoutMs: o.searchTimeout }),
        },
        auth: o.auth,
        trustProxy: o.trustProxy ?? false,
        ...(o.publicUrl === undefined ? {} : { publicUrl: o.publicUrl }),
        worker: o.worker,
        credentialRecheckMs: o.credentialRecheck,
        feeds: { perKey: o.feedsPerKey, total: o.feeds },
        workerRetentionMs: o.workerRetention,
        logLevel: o.logLevel,
        logFormat: o.logFormat,
      })
    })

  withDbOptions(program.command('worker'))
    .description('Run a worker: handlers from a module exporting `handlers` (by job type), on the database')
    .addOption(noMigrateOption())
    .requiredOption('--module <path>', 'module exporting handlers (and optionally queues)')
    .option('--queues <list>', 'queues to serve, comma-separated (default: the module’s queues)', list)
    .option('--concurrency <n>', 'jobs at once', int('--concurrency'), 5)
    .option(
      '--prefetch <n>',
      'jobs claimed ahead of the free slots, held in a local queue',
      int('--prefetch'),
      0,
    )
    .option('--kind <kind>', 'kind of machine, such as cpu or gpu', 'cpu')
    .option('--capabilities <list>', 'capabilities, comma-separated (e.g. gpu)', list)
    .action(async (o) => {
      const docket = await openDb(o, { migrate: o.migrate })
      const mod = (await import(pathToFileURL(resolve(o.module)).href)) as {
        handlers?: Record<string, Handler>
        queues?: (string | { name: string })[]
      }
      if (!mod.handlers) throw new UsageError(`${o.module} exports no \`handlers\``)
      const queues: string[] = o.queues ?? (mod.queues ?? []).map((q) => (typeof q === 'string' ? q : q.name))
      if (queues.length === 0) throw new UsageError('name the queues to serve with --queues')
      const worker = await new Worker(docket, {
        queues,
        handlers: mod.handlers,
        concurrency: o.concurrency,
        prefetch: o.prefetch,
        kind: o.kind,
        capabilities: o.capabilities ?? [],
        handleSignals: true,
      }).start()
      console.log(
        `worker ${worker.id} serving ${queues.join(', ')} (concurrency ${o.concurrency}); SIGTERM or Ctrl-C stops it gracefully`,
      )
      const stop = async () => {
        await worker.close()
        await docket.close()
        process.exit(0)
      }
      process.once('SIGTERM', stop)
      process.once('SIGINT', stop)
    })

  const migrate = withDbOptions(program.command('migrate'))
    .description('Create or upgrade the database schema (migrations, then PostgreSQL functions), then exit')
    .option('--plan', 'list what would run, and run nothing')
    .option('--print', 'print the SQL that would run, and run nothing')
    .option('--json', 'print JSON (with --plan)')
    .addHelpText(
      'after',
      `
\`docket migrate status\` shows the applied and pending migrations and, on PostgreSQL,
each function's checksum against this version's. Servers and workers started with
--no-migrate never change the schema: run \`docket migrate\` first (docs/operations.md,
rolling upgrades).`,
    )
    .action(async (o) => {
      if (!o.plan && !o.print) return withDb(o, async (d) => console.log(`migrated (${d.driver})`))
      const report = await inspectDb(o)
      const refusal = schemaRefusal(report.plan, report.code, true)
      if (refusal) throw refusal
      if (o.print) return printSteps(report.steps)
      print(o.json, { steps: report.steps.map((s) => s.label) }, () =>
        console.log(
          report.steps.length === 0
            ? `nothing to do: the schema (${report.where}) is up to date`
            : `would run, in order (${report.where}):\n${report.steps.map((s) => `  ${s.label}`).join('\n')}`,
        ),
      )
    })
  withDbOptions(migrate.command('status'))
    .description('Show the applied and pending migrations and the functions’ checksums; changes nothing')
    .option('--json', 'print JSON')
    .action(async (_o, command: Command) => {
      // --db and the other flags may come before `status` (migrate's) or after it (status's own).
      const o = command.optsWithGlobals()
      const report = await inspectDb(o)
      print(o.json, statusJson(report), () => printStatus(report))
    })

  withDbOptions(program.command('cleanup'))
    .description('Delete finished jobs older than --older-than, or than each queue’s retention')
    .option('--older-than <duration>', 'e.g. 7d, 12h')
    .option('--queue <name>', 'only this queue')
    .option('--json', 'print JSON')
    .action(async (o) =>
      withDb(o, async (d) => {
        const deleted = await d.cleanup({
          olderThanMs: o.olderThan ? parseDuration(o.olderThan) : undefined,
          queue: o.queue,
        })
        print(o.json, { deleted }, () => console.log(`deleted ${deleted} finished jobs`))
      }),
    )

  const keys = program
    .command('keys')
    .description('Manage API keys, on the database or through a server (--url with an admin --key)')
    .addHelpText(
      'after',
      `
Each command works on the database (--db) or through a server: --url <server>
--key <admin key> (the server's GET/POST /api/v1/keys and DELETE /api/v1/keys/{id}).`,
    )
  withConnection(
    keys
      .command('create <name>')
      .description('Create an API key for a principal; prints the key once')
      .addOption(
        new Option('--role <role>', 'what the key may do')
          .choices(['admin', 'user', 'worker'])
          .default('user'),
      ),
  ).action(async (name: string, o) =>
    run(o, async (client) => {
      const created = await client.createKey(name, o.role as Role)
      print(o.json, created, () =>
        console.log(`${created.key}\n(${created.role} key for ${created.name}; shown only this once)`),
      )
    }),
  )
  withConnection(keys.command('list').description('List API keys (never the keys themselves)')).action(
    async (o: CommonFlags) =>
      run(o, async (client) => {
        const list = await client.listKeys()
        print(o.json, list, () =>
          printTable(
            list.map((k) => ({ ...k, lastUsed: k.lastUsedAt ?? 'never', revoked: k.revokedAt ? 'yes' : '' })),
            ['id', 'prefix', 'role', 'name', 'lastUsed', 'revoked'],
          ),
        )
      }),
  )
  withConnection(
    keys
      .command('revoke <id>')
      .description('Revoke an API key by its id; its dashboard sessions end with it'),
  ).action(async (id: string, o: CommonFlags) =>
    run(o, async (client) => {
      await client.revokeKey(id)
      print(o.json, { ok: true }, () => console.log(`revoked ${id}`))
    }),
  )
}
