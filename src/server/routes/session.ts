import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Docket } from '../../docket.js'
import { authenticate, type FailedAuthLimiter } from '../auth.js'
import { clearedCookie, readCookie, SESSION_COOKIE, type Sessions, sessionCookie } from '../session.js'
import { errorResponses, ok } from './common.js'

const sessionView = z.object({
  name: z.string(),
  role: z.enum(['admin', 'user', 'worker']),
  csrfToken: z.string(),
})

export const sessionRoutes =
  ({
    docket,
    sessions,
    auth,
    limiter,
  }: {
    docket: Docket
    sessions: Sessions
    auth: 'keys' | 'none'
    limiter: FailedAuthLimiter
  }): FastifyPluginAsync =>
  async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>()
    const tags = ['session']

    app.post(
      '/session',
      {
        schema: {
          tags,
          summary: 'Sign in (dashboard): keeps the API key in an httpOnly cookie; returns the CSRF token',
          body: z.strictObject({ key: z.string().min(1).max(200) }),
          response: { 200: sessionView, ...errorResponses(400, 429) },
        },
      },
      async (request, reply) => {
        limiter.check(request.ip)
        const principal = await authenticate(docket, `Bearer ${request.body.key}`).catch((error) => {
          limiter.fail(request.ip)
          throw error
        })
        reply.header('set-cookie', sessionCookie(request.body.key, request.protocol === 'https'))
        return { name: principal.name, role: principal.role, csrfToken: sessions.csrfToken(request.body.key) }
      },
    )

    app.get(
      '/session',
      {
        schema: {
          tags,
          summary: 'Who the session cookie signs in, and its CSRF token',
          response: { 200: sessionView, ...errorResponses() },
        },
      },
      async (request) => {
        if (auth === 'none') return { name: 'local', role: 'admin' as const, csrfToken: 'none' }
        const key = readCookie(request.headers.cookie, SESSION_COOKIE)
        const principal = await authenticate(docket, key ? `Bearer ${key}` : undefined)
        return { name: principal.name, role: principal.role, csrfToken: sessions.csrfToken(key!) }
      },
    )

    app.delete(
      '/session',
      { schema: { tags, summary: 'Sign out: clears the session cookie', response: { 200: ok } } },
      async (_request, reply) => {
        reply.header('set-cookie', clearedCookie)
        return { ok: true as const }
      },
    )
  }
