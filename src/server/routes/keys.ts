/**
 * API keys over HTTP, for an admin: list them (never the keys themselves),
 * mint one (the key is in that response only), revoke one (its dashboard
 * sessions end with it). Every other role gets 403.
 */
import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { notFound } from '../../core/errors.js'
import type { Docket } from '../../docket.js'
import type { ApiKeyInfo } from '../../storage/store.js'
import { createKey } from '../auth.js'
import { accessOf } from '../internals.js'
import { ADMINS } from './access.js'
import { errorResponses, keyParams, ok } from './common.js'

const iso = z.string().describe('ISO 8601 date-time')
const role = z.enum(['admin', 'user', 'worker'])

export const apiKeyView = z
  .object({
    id: z.string(),
    name: z.string().describe('the principal: a user key owns the jobs whose owner is this name'),
    role,
    prefix: z.string().describe('the first characters of the key, to recognise it'),
    createdAt: iso,
    lastUsedAt: iso.nullable().describe('to the minute'),
    revokedAt: iso.nullable(),
  })
  .meta({ id: 'ApiKey' })

export const createdKeyView = apiKeyView
  .extend({ key: z.string().describe('the API key itself: shown in this response only, never again') })
  .meta({ id: 'CreatedApiKey' })

export const keyCreateInput = z.strictObject({
  name: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .regex(/^[^\p{Cc}]+$/u, 'no control characters')
    .describe('who the key is for; one principal may have several keys, all of one role'),
  role: role.default('user'),
})

export const apiKeyJson = (k: ApiKeyInfo): z.infer<typeof apiKeyView> => ({
  id: k.id,
  name: k.name,
  role: k.role,
  prefix: k.prefix,
  createdAt: k.createdAt.toISOString(),
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
  revokedAt: k.revokedAt?.toISOString() ?? null,
})

/** Revokes a live key, or NOT_FOUND (an unknown id and a revoked key alike). */
export async function revokeKey(docket: Docket, id: string): Promise<void> {
  if (!(await accessOf(docket).revokeApiKey(id))) throw notFound('API key', id)
}

export const keyRoutes =
  ({ docket }: { docket: Docket }): FastifyPluginAsync =>
  async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>()
    const tags = ['keys']
    const adminOnly = 'Admin only: any other role gets 403.'

    app.get(
      '/keys',
      {
        config: { roles: [...ADMINS] },
        schema: {
          tags,
          summary: 'List API keys, revoked ones included (never the keys themselves)',
          description: adminOnly,
          response: { 200: z.object({ keys: z.array(apiKeyView) }), ...errorResponses(403) },
        },
      },
      async () => ({ keys: (await accessOf(docket).listApiKeys()).map(apiKeyJson) }),
    )

    app.post(
      '/keys',
      {
        config: { roles: [...ADMINS] },
        schema: {
          tags,
          summary: 'Create an API key; the response holds the key, shown this once',
          description: `${adminOnly} A name already used with another role is a 409.`,
          body: keyCreateInput,
          response: { 201: createdKeyView, ...errorResponses(400, 403, 409, 415) },
        },
      },
      async (request, reply) => {
        const { key, info } = await createKey(docket, request.body.name, request.body.role)
        return reply.status(201).send({ ...apiKeyJson(info), key })
      },
    )

    app.delete(
      '/keys/:id',
      {
        config: { roles: [...ADMINS] },
        schema: {
          tags,
          summary: 'Revoke an API key: it stops working at once, and its dashboard sessions end',
          description: `${adminOnly} An unknown or already revoked key is a 404.`,
          params: keyParams,
          response: { 200: ok, ...errorResponses(400, 403, 404) },
        },
      },
      async (request) => {
        await revokeKey(docket, request.params.id)
        return { ok: true as const }
      },
    )
  }
