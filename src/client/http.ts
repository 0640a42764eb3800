/**
 * The HTTP transport of `docket/client`: openapi-fetch typed by the routes'
 * generated types (api.generated.ts), the API key, and one way to turn an
 * answer into a value or a DocketError. `fetch` only: it runs in Node, Deno,
 * Bun and browsers.
 */
import createClient, { type Client } from 'openapi-fetch'
import { DocketError, type ErrorCode, type ErrorDetails } from '../core/errors.js'
import type { paths } from './api.generated.js'

export type Api = Client<paths>

export interface ClientOptions {
  /** The server's base URL, e.g. `http://127.0.0.1:8080` (`/api/v1` is added). */
  url: string
  /** An API key (`dk_…`): admin, user or worker. */
  key?: string
  /** Another fetch (a test's, an edge runtime's). Default: the global fetch. */
  fetch?: typeof fetch
  /**
   * How many times a refused call is tried again when the server says when
   * (429 or 503 with Retry-After), waiting what it asks, at most 30 s each.
   * Default 3; 0 turns it off.
   */
  retries?: number
}

/** A server that does not answer (refused, reset, DNS): not an answer of the API, so not a DocketError. */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError'
}

/** The longest one Retry-After wait the client honours. */
const MAX_RETRY_WAIT_MS = 30_000

/** A DocketError as the API sent it, with the HTTP status it came with. */
export class ApiError extends DocketError {
  constructor(
    code: ErrorCode,
    message: string,
    details: ErrorDetails,
    readonly status: number,
  ) {
    super(code, message, details)
  }
}

export function apiBase(url: string): string {
  return `${url.replace(/\/+$/, '')}/api/v1`
}

/** openapi-fetch on the server, with the key on every call, refusals retried as Retry-After says, and unreachable servers as ConnectionError. */
export function createApi(options: ClientOptions): Api {
  const retries = options.retries ?? 3
  const base = (options.fetch ?? globalThis.fetch).bind(globalThis)
  const fetchWithRetry = async (input: Request): Promise<Response> => {
    for (let attempt = 0; ; attempt++) {
      let response: Response
      try {
        // A clone per try: a body can be read once.
        response = await base(attempt < retries ? input.clone() : input)
      } catch (error) {
        if ((error as Error)?.name === 'AbortError') throw error
        throw unreachable(input.url, error)
      }
      const wait = retryAfterMs(response)
      if (wait === null || attempt >= retries) return response
      await response.body?.cancel()
      await new Promise((r) => setTimeout(r, wait))
    }
  }
  const headers: Record<string, string> = {}
  if (options.key) headers.authorization = `Bearer ${options.key}`
  // The origin only: openapi-fetch joins it with the paths, which start with /api/v1.
  return createClient<paths>({ baseUrl: options.url.replace(/\/+$/, ''), headers, fetch: fetchWithRetry })
}

function retryAfterMs(response: Response): number | null {
  if (response.status !== 429 && response.status !== 503) return null
  const header = response.headers.get('retry-after')
  if (header === null) return null
  const seconds = Number(header)
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now()
  return Number.isFinite(ms) ? Math.min(MAX_RETRY_WAIT_MS, Math.max(0, ms)) : null
}

function unreachable(url: string, error: unknown): ConnectionError {
  const cause = (error as { cause?: { code?: string; errors?: { code?: string }[]; message?: string } }).cause
  const why = cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? (error as Error)?.message
  return new ConnectionError(`cannot reach the Docket server at ${new URL(url).origin} (${why})`)
}

/** What openapi-fetch resolves with. */
interface Answer<T> {
  data?: T
  error?: unknown
  response: Response
}

/** The answer's body, or the API's error as an ApiError (a body that is not the error shape: INTERNAL, naming the status). */
export async function unwrap<T>(call: Promise<Answer<T>>): Promise<T> {
  const { data, error, response } = await call
  if (response.ok) return data as T
  const e = (error as { error?: { code?: ErrorCode; message?: string; details?: ErrorDetails } } | undefined)
    ?.error
  throw new ApiError(
    e?.code ?? 'INTERNAL',
    e?.message ?? `HTTP ${response.status} from ${new URL(response.url || 'http://server').pathname}`,
    e?.details ?? {},
    response.status,
  )
}
