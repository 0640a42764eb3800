/**
 * Reading a multipart/form-data upload as a stream: text fields first, then
 * files, each file handed on as a stream that is checked (type, content,
 * size) while it flows to storage. Nothing is buffered whole, and a limit
 * passed ends the request there and then, without reading the rest of it.
 *
 * Every error of the body itself (no boundary, cut short, a limit) becomes a
 * DocketError here, so a malformed upload is a 4xx naming the problem and
 * never reaches the log as an unhandled error.
 */
import type { Readable } from 'node:stream'
import type { MultipartFile, MultipartValue } from '@fastify/multipart'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { ContentCheck, checkMediaType } from '../artifacts/content.js'
import { cleanFileName, fileTooLarge } from '../artifacts/storage.js'
import { DocketError, invalidArgument } from '../core/errors.js'
import type { FileInput } from '../docket.js'

export interface UploadLimits {
  /** Largest file, in bytes. */
  maxFileBytes: number
  /** Largest request body, in bytes: every file of one request together. */
  maxRequestBytes: number
  /** Media types accepted. */
  mediaTypes: string[]
}

export const DEFAULT_MAX_UPLOAD_BYTES = 25 * 1024 * 1024
export const DEFAULT_MAX_UPLOAD_REQUEST_BYTES = 512 * 1024 * 1024

/** The fields of an upload, read up to its first file, and its files, to be read one after another. */
export interface Upload {
  fields: Record<string, string>
  files: AsyncIterable<FileInput>
}

const requestTooLarge = (maxBytes: number): DocketError =>
  new DocketError(
    'PAYLOAD_TOO_LARGE',
    `the upload is larger than the limit of ${maxBytes} bytes for all files of one request`,
    { maxBytes },
  )

/** Fastify's multipart errors by code, as what they tell the client. */
const MULTIPART_ERRORS: Record<string, (limits: UploadLimits) => DocketError> = {
  FST_REQ_FILE_TOO_LARGE: (l) => fileTooLarge(l.maxFileBytes),
  FST_FILES_LIMIT: () => new DocketError('PAYLOAD_TOO_LARGE', 'too many files in one upload'),
  FST_FIELDS_LIMIT: () => new DocketError('PAYLOAD_TOO_LARGE', 'too many fields in one upload'),
  FST_PARTS_LIMIT: () => new DocketError('PAYLOAD_TOO_LARGE', 'too many parts in one upload'),
  FST_PROTO_VIOLATION: () => invalidArgument('a field may not be named after an Object property'),
  FST_INVALID_JSON_FIELD_ERROR: () =>
    invalidArgument('a field declared application/json is not JSON', [
      { path: 'body', message: 'expected JSON' },
    ]),
  FST_MP_PREMATURE_CLOSE: () => malformed('the request ended before the multipart body did'),
}

function malformed(what: string): DocketError {
  return invalidArgument(`malformed multipart/form-data body: ${what}`, [{ path: 'body', message: what }])
}

/**
 * What a failure while reading the body means to the client. Busboy's own
 * errors ("Unexpected end of multipart data", "Malformed part header") carry
 * no code; their messages name the problem and quote none of the body.
 */
function uploadError(error: unknown, limits: UploadLimits): DocketError {
  if (error instanceof DocketError) return error
  const code = (error as { code?: string })?.code
  const known = code ? MULTIPART_ERRORS[code] : undefined
  if (known) return known(limits)
  const message = error instanceof Error ? error.message : String(error)
  return malformed(/^[\w .:,'()-]{1,120}$/.test(message) ? message : 'it could not be parsed')
}

/** Refuses, before reading any of the body, what the headers already show to be wrong. */
function checkHeaders(request: FastifyRequest, limits: UploadLimits): void {
  if (!request.isMultipart()) throw new DocketError('UNSUPPORTED_MEDIA_TYPE', 'expected multipart/form-data')
  const type = request.headers['content-type'] ?? ''
  if (!/;\s*boundary=("[^"]+"|[^;\s]+)/i.test(type)) {
    throw invalidArgument('the multipart/form-data content type has no boundary parameter', [
      { path: 'headers.content-type', message: 'expected multipart/form-data; boundary=...' },
    ])
  }
  const length = Number(request.headers['content-length'])
  if (Number.isFinite(length) && length > limits.maxRequestBytes)
    throw requestTooLarge(limits.maxRequestBytes)
}

/**
 * Starts reading an upload: its fields up to the first file. The caller must
 * read each file's stream before asking for the next file; a field after a
 * file is refused (the files are stored as they arrive, so what the fields say
 * must be known first).
 */
export async function readUpload(request: FastifyRequest, limits: UploadLimits): Promise<Upload> {
  checkHeaders(request, limits)
  const parts = request.parts()[Symbol.asyncIterator]()
  const budget = { left: limits.maxRequestBytes }
  // A file is wrapped the moment it arrives: an error of its stream (the body
  // cut short) may come before its consumer is ready for it.
  const next = async (): Promise<{ field: MultipartValue } | { file: FileInput } | null> => {
    let part: IteratorResult<MultipartFile | MultipartValue>
    try {
      part = await parts.next()
    } catch (error) {
      throw uploadError(error, limits)
    }
    if (part.done) return null
    if (part.value.type === 'field') return { field: part.value as MultipartValue }
    return { file: checkedFile(part.value as MultipartFile, limits, budget) }
  }
  const fields: Record<string, string> = {}
  let part = await next()
  while (part !== null && 'field' in part) {
    const { field } = part
    if (field.valueTruncated) {
      throw new DocketError('PAYLOAD_TOO_LARGE', `the field \`${field.fieldname}\` is too long`)
    }
    fields[field.fieldname] = typeof field.value === 'string' ? field.value : JSON.stringify(field.value)
    part = await next()
  }
  async function* files(): AsyncGenerator<FileInput> {
    while (part !== null) {
      if ('field' in part) {
        const name = part.field.fieldname
        throw invalidArgument(`the field \`${name}\` comes after a file; send fields first`, [
          { path: `body.${name}`, message: 'must come before the files' },
        ])
      }
      yield part.file
      part = await next()
    }
  }
  return { fields, files: files() }
}

/** One uploaded file as a stream that fails as soon as it breaks a rule. */
function checkedFile(part: MultipartFile, limits: UploadLimits, budget: { left: number }): FileInput {
  const name = cleanFileName(part.filename)
  if (part.file.destroyed) {
    throw part.file.errored ? uploadError(part.file.errored, limits) : malformed('a file was cut short')
  }
  checkMediaType(part.mimetype, limits.mediaTypes)
  const checked = new ContentCheck(part.mimetype, name)
  // Until its consumer pipes it to storage, an error is kept in the stream (and raised there).
  checked.on('error', () => {})
  const fail = (error: DocketError) => {
    checked.destroy(error)
    part.file.destroy()
  }
  // Busboy stops a file at the limit but goes on reading the request to its end; stop now.
  part.file.once('limit', () => fail(fileTooLarge(limits.maxFileBytes)))
  part.file.on('error', (error) => fail(uploadError(error, limits)))
  part.file.on('data', (chunk: Buffer) => {
    budget.left -= chunk.length
    if (budget.left < 0) fail(requestTooLarge(limits.maxRequestBytes))
  })
  part.file.pipe(checked)
  return { name, mediaType: part.mimetype, data: checked as Readable }
}

/**
 * After a refused upload's answer is sent, how much more of its body is read
 * (and dropped) before the connection is closed. A client that reads the
 * answer while it sends (curl, browsers, Node's http) stops on it at once; one
 * that sends its whole body first still gets the answer when the rest fits in
 * these bounds, instead of a connection reset before it could read it. Past
 * either bound the connection is closed: a refused 1 GiB body is never read to
 * its end.
 */
const LINGER_BYTES = 4 * 1024 * 1024
const LINGER_MS = 2000

/**
 * Runs an upload route's work, turning a failure of the body into its
 * DocketError. The answer to a refused body goes out at once, without waiting
 * for the rest of it: see LINGER_BYTES.
 */
export async function handleUpload<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  limits: UploadLimits,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (!request.raw.complete) {
      request.raw.unpipe()
      request.raw.pause()
      reply.raw.once('finish', () => dropRest(request))
    }
    throw isMultipartError(error) ? uploadError(error, limits) : error
  }
}

/** Reads and drops the rest of a refused body within bounds, then closes the connection if more is coming. */
function dropRest(request: FastifyRequest): void {
  const raw = request.raw
  if (raw.complete || raw.destroyed) return
  let dropped = 0
  const close = () => {
    clearTimeout(timer)
    raw.off('data', drop)
    if (!raw.complete) raw.socket?.destroy()
  }
  const drop = (chunk: Buffer) => {
    dropped += chunk.length
    if (dropped > LINGER_BYTES) close()
  }
  const timer = setTimeout(close, LINGER_MS)
  raw.on('data', drop).once('end', () => {
    clearTimeout(timer)
    raw.off('data', drop)
  })
  raw.resume()
}

/** An error raised by the multipart parser (not, say, by the database). */
function isMultipartError(error: unknown): boolean {
  const code = (error as { code?: string })?.code
  return code !== undefined && code in MULTIPART_ERRORS
}
