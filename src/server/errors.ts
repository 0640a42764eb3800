/**
 * One error shape for every response: { error: { code, message, details } }.
 * A DocketError keeps its code and status; Fastify's own errors (validation,
 * body too large, bad content type, unknown route) are mapped onto the same
 * codes; anything else is a 500 whose details never reach the client, and
 * reach the log only as far as they cannot quote the request's data.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { stdSerializers } from 'pino'
import { MAX_PATH_PARAM_LENGTH } from '../core/bounds.js'
import { DocketError, ERROR_CODES, type ErrorCode, type FieldIssue } from '../core/errors.js'

export function errorBody(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
  return { error: { code, message, details } }
}

interface ValidationIssue {
  instancePath?: string
  message?: string
  params?: { issue?: { path?: (string | number)[]; message?: string } }
}

function validationIssues(error: FastifyError): FieldIssue[] {
  const where = (error as { validationContext?: string }).validationContext ?? 'body'
  return ((error.validation ?? []) as ValidationIssue[]).map((v) => {
    const path =
      v.params?.issue?.path?.map(String).join('.') ??
      (v.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.')
    return {
      path: path ? `${where}.${path}` : where,
      message: v.params?.issue?.message ?? v.message ?? 'invalid',
    }
  })
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_ARGUMENT',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_ARGUMENT',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_ARGUMENT',
  FST_REQ_FILE_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_FILES_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
}

/**
 * The stable code for another client error a plugin raised: the first code
 * with that status (404 is NOT_FOUND, 409 CONFLICT); a status no code has is
 * answered as a 400 INVALID_ARGUMENT, so that code and status always agree.
 */
export function codeForStatus(status: number): ErrorCode {
  const codes = Object.keys(ERROR_CODES) as ErrorCode[]
  // WAIT_TIMEOUT is the library's alone (a route answers 202 when a wait runs out), so a plugin's 408 is not one.
  return codes.find((c) => ERROR_CODES[c] === status && c !== 'WAIT_TIMEOUT') ?? 'INVALID_ARGUMENT'
}

/** A body of a type the route does not take: say which type was sent and which to send. */
function unsupportedMediaType(code: string, given: string | undefined) {
  const sent = given ? `content-type ${JSON.stringify(given.slice(0, 100))}` : 'no content-type'
  if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') {
    return {
      message: `the body has ${sent}: this route takes files, so send multipart/form-data (content-type: multipart/form-data with a boundary, as FormData makes)`,
      details: { contentType: given ?? null, expected: 'multipart/form-data' },
    }
  }
  return {
    message: `the body has ${sent}: send JSON with the header content-type: application/json (routes that take files also take multipart/form-data)`,
    details: { contentType: given ?? null, expected: 'application/json' },
  }
}

/**
 * A database's own error text quotes the data it refused: PostgreSQL's
 * message, `detail` and `where` carry the value, even the start of a payload
 * ("JSON data, line 1: {\"secret\": ..."). Such an error is logged by its
 * class, SQLSTATE and where it was raised only; the stack keeps its frames but
 * not its first line, which repeats the message.
 */
function isDatabaseError(error: unknown): error is Error & Record<string, unknown> {
  const e = error as { severity?: unknown; code?: unknown } | null
  return e instanceof Error && typeof e.severity === 'string' && /^[0-9A-Z]{5}$/.test(String(e.code ?? ''))
}

function databaseErrorLog(error: Error & Record<string, unknown>): Record<string, unknown> {
  const names = ['severity', 'routine', 'schema', 'table', 'column', 'constraint', 'dataType']
  const known = Object.fromEntries(
    names.filter((n) => typeof error[n] === 'string').map((n) => [n, error[n]]),
  )
  return {
    type: error.constructor.name,
    code: error.code,
    message: `database error ${String(error.code)} (its text is not logged: it may quote the request's data)`,
    ...known,
    stack: (error.stack ?? '')
      .split('\n')
      .filter((line) => /^\s+at /.test(line))
      .join('\n'),
  }
}

/**
 * The `err` serializer of the server's logger: pino's own, except for a
 * database error (or an error caused by one), which is logged without its text.
 */
export function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (!isDatabaseError(e)) continue
    const log = databaseErrorLog(e)
    return e === error ? log : { ...log, type: error.constructor.name, causedBy: log.type }
  }
  return stdSerializers.err(error)
}

const LOCATIONS = /^(body|querystring|params|headers)(\.|$)/

/** Whether `segments` name something inside `value`: its first key is there (a key or an array index). */
const holds = (value: unknown, segments: string[]): boolean =>
  value !== null &&
  typeof value === 'object' &&
  (segments.length === 0 || Object.hasOwn(value as object, segments[0]!))

/** The keys from `value` down to the object holding `segments`, at most `depth` levels down; null if none does. */
function pathTo(value: unknown, segments: string[], depth: number): string[] | null {
  if (holds(value, segments)) return []
  if (depth === 0 || value === null || typeof value !== 'object') return null
  for (const [key, child] of Object.entries(value as object)) {
    const below = pathTo(child, segments, depth - 1)
    if (below !== null) return [key, ...below]
  }
  return null
}

/**
 * An issue's path as every answer gives it: starting with where in the
 * request the value was (`body.`, `querystring.`, `params.`, `headers.`), then
 * the field (`body.retryInMs`, `body.jobs.3.priority`, `querystring.where`,
 * `body.filter.search`). Route schemas already say where; a refusal the
 * library made names the field within its argument (`retryInMs`), which is
 * found here in the request's body, query or path (the first holding it).
 */
export function requestPath(request: FastifyRequest, path: string): string {
  if (LOCATIONS.test(path)) return path
  const segments = path === '' ? [] : path.split('.')
  const parts = { body: request.body, querystring: request.query, params: request.params }
  if (segments.length > 0)
    for (const [where, value] of Object.entries(parts)) {
      const inside = pathTo(value, segments, 2)
      if (inside !== null) return [where, ...inside, ...segments].join('.')
    }
  return ['body', ...segments].join('.')
}

function locatedDetails(request: FastifyRequest, error: DocketError): Record<string, unknown> {
  const issues = error.details.issues
  if (!Array.isArray(issues) || issues.length === 0) return error.details
  return { ...error.details, issues: issues.map((i) => ({ ...i, path: requestPath(request, i.path) })) }
}

export function installErrorHandling(
  app: FastifyInstance,
  pageFallback: (request: FastifyRequest, reply: FastifyReply) => unknown = () => null,
): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof DocketError) {
      // A client told to slow down is told for how long, in the header HTTP clients read.
      const wait = error.details.retryAfterSeconds
      if (error.code === 'RATE_LIMITED' && typeof wait === 'number') reply.header('retry-after', String(wait))
      return reply
        .status(error.httpStatus)
        .send(errorBody(error.code, error.message, locatedDetails(request, error)))
    }
    if (error.validation) {
      const issues = validationIssues(error)
      const message = `invalid request: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`
      return reply.status(400).send(errorBody('INVALID_ARGUMENT', message, { issues }))
    }
    const mapped = error.code ? FASTIFY_CODES[error.code] : undefined
    if (mapped === 'UNSUPPORTED_MEDIA_TYPE') {
      const { message, details } = unsupportedMediaType(error.code!, request.headers['content-type'])
      return reply.status(415).send(errorBody(mapped, message, details))
    }
    if (mapped) return reply.status(ERROR_CODES[mapped]).send(errorBody(mapped, error.message))
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      const code = codeForStatus(error.statusCode)
      return reply.status(ERROR_CODES[code]).send(errorBody(code, error.message))
    }
    request.log.error({ err: error }, 'unhandled error')
    return reply.status(500).send(errorBody('INTERNAL', 'an internal error occurred; it has been logged'))
  })
  app.setNotFoundHandler(
    (request, reply) =>
      pageFallback(request, reply) ??
      reply
        .status(404)
        .send(errorBody('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)),
  )
}

/**
 * Errors Fastify's router raises before any route or error handler runs (a
 * path parameter over its length limit, a malformed percent-encoding): the
 * same error shape, and a 400, instead of Fastify's own body and a 414.
 */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH' || error.code === 'FST_ERR_BAD_URL') {
    const message =
      error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? `a path parameter is too long (at most ${MAX_PATH_PARAM_LENGTH} characters, percent-encoded)`
        : 'the URL is malformed (bad percent-encoding)'
    void reply
      .status(400)
      .send(errorBody('INVALID_ARGUMENT', message, { issues: [{ path: 'params', message }] }))
    return
  }
  void reply.status(500).send(errorBody('INTERNAL', 'an internal error occurred; it has been logged'))
}
