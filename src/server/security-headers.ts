/**
 * The headers every response carries, so a browser confines what it renders
 * from us: no framing by other sites (clickjacking), no guessing a content
 * type (an uploaded file sniffed into HTML), no full URLs in Referer to other
 * sites, and a Content-Security-Policy. Pages (the dashboard, /docs) may
 * load scripts, styles, images and connections from this server only, and
 * images also as data: URIs (icons); nothing inline (but one style on
 * /docs), no eval. API responses
 * (JSON, event streams, downloaded artifacts) may load nothing at all.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'

export const PAGE_CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

/**
 * /docs: the same, plus the one inline style element Swagger UI's bundle
 * applies, allowed by its hash (the page renders without it too; the
 * dashboard test in Chromium fails if an upgrade changes it).
 */
export const DOCS_CSP = PAGE_CSP.replace(
  "default-src 'self'",
  "default-src 'self'; style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='",
)

export const API_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"

function policyFor(url: string): string {
  if (url.startsWith('/api/')) return API_CSP
  return url === '/docs' || url.startsWith('/docs/') ? DOCS_CSP : PAGE_CSP
}

const COMMON: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // same-origin rather than no-referrer: browsers then still send our own Origin on the dashboard's changes.
  'referrer-policy': 'same-origin',
}

export async function securityHeaders(
  request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
): Promise<unknown> {
  for (const [name, value] of Object.entries(COMMON)) if (!reply.hasHeader(name)) reply.header(name, value)
  if (!reply.hasHeader('content-security-policy'))
    reply.header('content-security-policy', policyFor(request.url))
  return payload
}
