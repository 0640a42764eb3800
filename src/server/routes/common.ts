import { z } from 'zod'
import { errorView } from '../views.js'

/** The error responses a route may give, for its OpenAPI entry. */
export function errorResponses(...statuses: (400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429)[]) {
  return Object.fromEntries([401, 429, ...statuses].map((s) => [s, errorView])) as Record<
    number,
    typeof errorView
  >
}

export const idParams = z.strictObject({ id: z.string().describe('a UUID') })
export const nameParams = z.strictObject({ name: z.string() })
export const ok = z.object({ ok: z.literal(true) })
