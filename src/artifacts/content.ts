/**
 * Which files the server takes: a declared media type from the allowed list,
 * and content that is what the type says. Binary formats are recognised by
 * their signatures with `file-type` (a maintained table of magic numbers);
 * text types must be UTF-8 throughout. Both checks run on the stream as it
 * flows, so nothing is buffered beyond the first few kilobytes.
 */
import { Transform, type TransformCallback } from 'node:stream'
import { fileTypeFromBuffer, supportedMimeTypes } from 'file-type'
import { DocketError } from '../core/errors.js'

/** Media types accepted by default; anything else is 415. */
export const DEFAULT_MEDIA_TYPES = [
  'application/pdf',
  'text/plain',
  'text/csv',
  'text/markdown',
  'application/json',
  'image/png',
  'image/jpeg',
  'image/webp',
  'application/zip',
  'application/octet-stream',
]

/** How many leading bytes are read before deciding: what file-type needs for every format it knows. */
const SAMPLE_BYTES = 4100

/** Formats that are ZIP archives inside (as file-type names them); each is also a valid application/zip. */
const ZIP_BASED = new Set([
  'application/zip',
  'application/java-archive',
  'application/epub+zip',
  'application/vnd.android.package-archive',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'application/vnd.oasis.opendocument.text',
  'application/vnd.oasis.opendocument.spreadsheet',
  'application/vnd.oasis.opendocument.presentation',
  'application/x-xpinstall',
])

/**
 * How a declared type is checked against the content:
 * - `text`: text/*, JSON and `+json` types must be valid UTF-8;
 * - `signature`: a type file-type recognises must be recognised as that type;
 * - `none`: application/octet-stream says nothing about its bytes, and a type
 *   configured by the operator that neither rule covers is taken as declared.
 */
export function contentRule(mediaType: string): 'text' | 'signature' | 'none' {
  if (mediaType.startsWith('text/') || mediaType === 'application/json' || mediaType.endsWith('+json'))
    return 'text'
  if (supportedMimeTypes.has(mediaType as never)) return 'signature'
  return 'none'
}

/** The declared type without parameters, lower-cased: `Text/Plain; charset=utf-8` is `text/plain`. */
export function baseMediaType(mediaType: string | undefined): string {
  return (mediaType ?? '').split(';')[0]!.trim().toLowerCase()
}

/** UNSUPPORTED_MEDIA_TYPE unless the declared type is in the allowed list. */
export function checkMediaType(mediaType: string, allowed: string[]): void {
  const type = baseMediaType(mediaType)
  if (allowed.includes(type)) return
  throw new DocketError(
    'UNSUPPORTED_MEDIA_TYPE',
    `media type ${type || '(none)'} is not accepted; allowed: ${allowed.join(', ')}`,
    { mediaType: type, allowed },
  )
}

const notWhatItSays = (name: string, type: string, found: string): DocketError =>
  new DocketError('UNSUPPORTED_MEDIA_TYPE', `the file ${name} is declared ${type} but ${found}`, {
    mediaType: type,
    file: name,
  })

/** Decides whether a file's first bytes are of the declared signature type. */
async function checkSignature(head: Buffer, type: string, name: string): Promise<void> {
  const detected = await fileTypeFromBuffer(head)
  const matches =
    detected !== undefined &&
    (detected.mime === type || (type === 'application/zip' && ZIP_BASED.has(detected.mime)))
  if (matches) return
  throw notWhatItSays(
    name,
    type,
    detected ? `its content is ${detected.mime}` : 'its content is not of that type',
  )
}

/**
 * A pass-through that holds a file's first bytes back until they show the
 * file is of its declared type, then lets everything through; a text file is
 * checked to be UTF-8 to its last byte. Fails with UNSUPPORTED_MEDIA_TYPE.
 */
export class ContentCheck extends Transform {
  readonly #type: string
  readonly #name: string
  readonly #rule: ReturnType<typeof contentRule>
  readonly #utf8 = new TextDecoder('utf-8', { fatal: true })
  #head: Buffer[] | null = []
  #headBytes = 0

  constructor(mediaType: string, name: string) {
    super()
    this.#type = baseMediaType(mediaType)
    this.#name = JSON.stringify(name)
    this.#rule = contentRule(this.#type)
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const error = this.#textError(chunk, false)
    if (error) done(error)
    else if (this.#head === null) done(null, chunk)
    else this.#hold(chunk, done)
  }

  override _flush(done: TransformCallback): void {
    const error = this.#textError(Buffer.alloc(0), true)
    if (error) done(error)
    else if (this.#head === null) done()
    else this.#release(done)
  }

  /** Keeps a chunk of the head back until there is enough to decide on. */
  #hold(chunk: Buffer, done: TransformCallback): void {
    this.#head!.push(chunk)
    this.#headBytes += chunk.length
    if (this.#headBytes < SAMPLE_BYTES) done()
    else this.#release(done)
  }

  /** Checks the held-back head, then passes it on. */
  #release(done: TransformCallback): void {
    const head = Buffer.concat(this.#head!)
    this.#head = null
    const checked =
      this.#rule === 'signature' ? checkSignature(head, this.#type, this.#name) : Promise.resolve()
    checked.then(
      () => done(null, head),
      (error: Error) => done(error),
    )
  }

  #textError(chunk: Buffer, last: boolean): DocketError | null {
    if (this.#rule !== 'text') return null
    try {
      this.#utf8.decode(chunk, { stream: !last })
      return null
    } catch {
      return notWhatItSays(this.#name, this.#type, 'is not UTF-8 text')
    }
  }
}
