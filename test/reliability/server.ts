/**
 * A real server on 127.0.0.1 for the reliability suite, like
 * test/server/harness.ts's useServer (same keys, same checking Client), but
 * started inside a test and giving the database URL too, so the test can
 * check Docket's tables directly afterwards.
 */
import { Docket } from '../../src/index.js'
import { type App, type AppOptions, buildApp } from '../../src/server/app.js'
import { createKey } from '../../src/server/auth.js'
import { Client, type Keys } from '../server/harness.js'
import { type Driver, freshTarget } from './support.js'

export interface TestServer {
  url: string
  docket: Docket
  app: App
  base: string
  keys: Keys
  client: Client
  /** Another app on the same database, with its own failed-authentication limiter. */
  spare(options?: Partial<AppOptions>): Promise<{ client: Client; base: string; close(): Promise<void> }>
  close(): Promise<void>
}

async function listen(options: AppOptions): Promise<{ app: App; base: string }> {
  const app = await buildApp(options)
  await app.listen({ host: '127.0.0.1', port: 0 })
  return { app, base: `http://127.0.0.1:${(app.server.address() as { port: number }).port}` }
}

export async function startServer(driver: Driver, options: Partial<AppOptions> = {}): Promise<TestServer> {
  const target = await freshTarget(driver)
  const docket = await Docket.open(target.url)
  const { app, base } = await listen({ docket, ...options })
  const revoked = await createKey(docket, 'carol', 'user')
  await docket.access.revokeApiKey(revoked.info.id)
  const keys: Keys = {
    admin: (await createKey(docket, 'root', 'admin')).key,
    alice: (await createKey(docket, 'alice', 'user')).key,
    bob: (await createKey(docket, 'bob', 'user')).key,
    worker: (await createKey(docket, 'gpu-box', 'worker')).key,
    revoked: revoked.key,
    bogus: `dk_bogus0_${'x'.repeat(26)}`,
  }
  const spares = new Set<App>()
  return {
    url: target.url,
    docket,
    app,
    base,
    keys,
    client: new Client(base, keys),
    async spare(more = {}) {
      const spare = await listen({ docket, ...options, ...more })
      spares.add(spare.app)
      return {
        client: new Client(spare.base, keys),
        base: spare.base,
        close: async () => {
          spares.delete(spare.app)
          await spare.app.close()
        },
      }
    },
    async close() {
      for (const a of spares) await a.close()
      await app.close()
      await docket.close()
      await target.cleanup()
    },
  }
}
