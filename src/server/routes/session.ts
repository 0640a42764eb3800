/** Signing in to the dashboard and out again; see ../session.ts for what a session is. */
import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { DocketError } from '../../core/errors.js'
import type { SessionInfo } from '../../storage/store.js'
import { type Authenticator, failedAuthentication, findKey } from '../auth.js'
import { checkOrigin, clearSessionCookies, sessionIdOf, setSessionCookies } from '../session.js'
import { sessionView } from '../views.js'
import { errorResponses, ok } from './common.js'

const view = (s: SessionInfo) => ({
  name: s.key.name,
  role: s.key.role,
  csrfToken: s.csrfToken,
  expiresAt: s.expiresAt.toISOString(),
})

export const sessionRoutes =
  ({ auth, mode }: { auth: Authenticator; mode: 'keys' | 'none' }): FastifyPluginAsync =>
  async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>()
    const tags = ['session']

    app.post(
      '/session',
      {
        schema: {
          tags,
          summary:
            'Sign in (dashboard): starts a session, kept in an httpOnly cookie; returns its CSRF token',
          security: [],
          body: z.strictObject({ key: z.string().min(1).max(200) }),
          response: { 200: sessionView, ...errorResponses(400, 403) },
        },
      },
      async (request, reply) => {
        checkOrigin(request, auth.allowedOrigins, false, auth.publicUrl)
        const key = request.body.key.trim()
        const info = await findKey(auth.docket, key).catch((error) => {
          throw failedAuthentication(auth, request.ip, key, error)
        })
        const { id, session } = await auth.sessions.start(info)
        auth.usage.used(info.id)
        setSessionCookies(reply, id, auth.sessions.ttlMs, request.protocol === 'https')
        return view(session)
      },
    )

    app.get(
      '/session',
      {
        schema: {
          tags,
          summary: 'Who the session cookie signs in, and its CSRF token',
          security: [],
          response: { 200: sessionView, ...errorResponses() },
        },
      },
      async (request, reply) => {
        if (mode === 'none')
          return { name: 'local', role: 'admin' as const, csrfToken: 'none', expiresAt: null }
        const id = sessionIdOf(request)
        if (id === undefined)
          throw new DocketError(
            'UNAUTHENTICATED',
            'not signed in: POST /api/v1/session with { "key": "<API key>" }',
          )
        const session = await auth.sessions.find(id!).catch((error) => {
          clearSessionCookies(reply, request.protocol === 'https')
          throw failedAuthentication(auth, request.ip, undefined, error)
        })
        return view(session)
      },
    )

    app.delete(
      '/session',
      {
        schema: {
          tags,
          summary: 'Sign out: ends the session and clears its cookie',
          security: [],
          response: { 200: ok, ...errorResponses(403) },
        },
      },
      async (request, reply) => {
        checkOrigin(request, auth.allowedOrigins, false, auth.publicUrl)
        const id = sessionIdOf(request)
        if (id !== undefined) await auth.sessions.end(id)
        clearSessionCookies(reply, request.protocol === 'https')
        return { ok: true as const }
      },
    )
  }
