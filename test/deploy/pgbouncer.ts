/**
 * A real PgBouncer (Debian's `pgbouncer` package; .ci/run installs it) for the
 * pooler test: started on 127.0.0.1 on a free port, in transaction mode, in
 * front of the test PostgreSQL server, with a pool smaller than Docket's so
 * that clients really do share server connections. Never skipped: without
 * the binary, starting it throws, naming the package to install.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { freePort } from '../reliability/support.js'

export interface PgBouncer {
  /** postgres:// to PgBouncer, for the same database and user as the upstream URL. */
  url: string
  /** Runs a command on PgBouncer's admin console (`SHOW STATS` and the like). */
  admin(command: string): Promise<Record<string, unknown>[]>
  /** What PgBouncer logged. */
  log(): string
  stop(): Promise<void>
}

function binary(): string {
  for (const candidate of ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'])
    if (existsSync(candidate)) return candidate
  const found = spawnSync('sh', ['-c', 'command -v pgbouncer'], { encoding: 'utf8' }).stdout.trim()
  if (found) return found
  throw new Error('pgbouncer is not installed: apt-get install pgbouncer (the pooler test needs a real one)')
}

export async function startPgBouncer(upstream: string, poolSize = 3): Promise<PgBouncer> {
  const server = new URL(upstream)
  const database = server.pathname.slice(1) || 'postgres'
  const user = decodeURIComponent(server.username || 'postgres')
  const password = decodeURIComponent(server.password)
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'docket-pgbouncer-'))
  // PgBouncer refuses to run as root; as another user it must read its files and write its log here.
  chmodSync(dir, 0o777)
  const target = [
    `host=${server.hostname}`,
    `port=${server.port || 5432}`,
    `dbname=${database}`,
    `user=${user}`,
    ...(password ? [`password=${password}`] : []),
  ].join(' ')
  const config = join(dir, 'pgbouncer.ini')
  writeFileSync(join(dir, 'users.txt'), `"${user}" ""\n`)
  writeFileSync(
    config,
    `[databases]
${database} = ${target}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = trust
auth_file = ${join(dir, 'users.txt')}
admin_users = ${user}
pool_mode = transaction
default_pool_size = ${poolSize}
max_client_conn = 200
logfile = ${join(dir, 'pgbouncer.log')}
pidfile = ${join(dir, 'pgbouncer.pid')}
`,
  )
  for (const f of ['users.txt', 'pgbouncer.ini']) chmodSync(join(dir, f), 0o644)
  const asUser = process.getuid?.() === 0 ? ['-u', existsPostgresUser() ? 'postgres' : 'nobody'] : []
  const child: ChildProcess = spawn(binary(), [...asUser, config], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (c: Buffer) => {
    output += c.toString()
  })
  child.stderr!.on('data', (c: Buffer) => {
    output += c.toString()
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/${database}`
  const admin = async (command: string) => {
    const client = new pg.Client({
      connectionString: `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/pgbouncer`,
    })
    await client.connect()
    try {
      return (await client.query(command)).rows
    } finally {
      await client.end()
    }
  }
  // The log file, which only grows (what PgBouncer printed before it opened the file, if not yet).
  const log = () => {
    const file = join(dir, 'pgbouncer.log')
    return existsSync(file) ? readFileSync(file, 'utf8') : output
  }
  const deadline = Date.now() + 10_000
  for (;;) {
    try {
      await admin('SHOW VERSION')
      break
    } catch (error) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`pgbouncer did not start: ${(error as Error).message}\n${log()}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  return {
    url,
    admin,
    log,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        await exited
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

function existsPostgresUser(): boolean {
  return spawnSync('id', ['-u', 'postgres']).status === 0
}
