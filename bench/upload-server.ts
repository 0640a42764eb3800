/**
 * The server for bench/uploads.ts, in a process of its own so its memory is
 * measured alone: argv is the database URL and the artifacts directory (used
 * on SQLite; PostgreSQL keeps the files in the database, its default).
 */
import { Docket } from '../src/index.js'
import { buildApp } from '../src/server/app.js'

const [url, artifactsDir] = process.argv.slice(2) as [string, string]
const docket = await Docket.open(url, { artifactsDir })
await docket.createQueue({ name: 'bench-uploads' })
const app = await buildApp({ docket, auth: 'none', logger: false })
await app.listen({ host: '127.0.0.1', port: 0 })
process.send?.({ port: (app.server.address() as { port: number }).port, artifacts: docket.artifacts.kind })
process.on('SIGTERM', async () => {
  await app.close()
  await docket.close()
  process.exit(0)
})
