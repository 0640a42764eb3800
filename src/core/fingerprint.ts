/**
 * Error fingerprints: one short id per class of error, so that
 * `page 3 of deck 01J… failed` and `page 4 of deck 01K… failed` are one line
 * of the top errors, one search filter and one bulk action.
 *
 * The error's name and message are normalised (what varies from one
 * occurrence to the next, such as numbers, ids, quoted values, addresses,
 * paths, URLs and times, becomes a placeholder) and the top frame of its
 * stack (file and function, never line or column, which move with every
 * deploy) joins the key. The key is hashed with FNV-1a (64 bits, of which the
 * fingerprint keeps 48): core stays pure, and a fingerprint needs to tell
 * classes apart, not to resist an adversary.
 */

export interface FingerprintInput {
  name?: string | null
  message: string
  stack?: string | null
}

export interface ErrorFingerprint {
  /** 12 lowercase hex characters. */
  fingerprint: string
  /** The name and message with their varying parts as placeholders: `Error: page <num> of deck <ulid> failed`. */
  normalized: string
  /** The top frame that joined the key, `file:function`; null when the stack has none. */
  frame: string | null
}

/** The longest normalised text kept and hashed: a message carrying a whole document is still one class. */
export const NORMALIZED_MAX = 500
/**
 * Only this much of a name or message is read, and only the first STACK_LINES
 * lines of a stack, each cut to STACK_LINE_MAX: fingerprinting runs on every
 * failure, and a pattern over an unbounded text (a quote opened and never
 * closed, many times) would cost its length squared.
 */
export const TEXT_READ_MAX = 2_000
const STACK_LINES = 50
const STACK_LINE_MAX = 1_000

/**
 * In order: earlier patterns see the text before later ones have replaced
 * parts of it (a URL keeps its digits until it is `<url>`; a UUID is not read
 * as hex and numbers).
 */
const PLACEHOLDERS: [RegExp, string][] = [
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'`<>()[\]{}]+/gi, '<url>'],
  [/[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g, '<email>'],
  // Quoted values; an apostrophe inside a word (can't) opens nothing.
  [/(?<![\w'])'[^'\n]*'(?![\w])|"[^"\n]*"|`[^`\n]*`|“[^”\n]*”|‘[^’\n]*’/g, '<str>'],
  [/\b\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?\b/gi, '<time>'],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>'],
  // ULIDs: 26 Crockford base-32 characters, the first at most 7.
  [/\b[0-7][0-9A-HJKMNP-TV-Z]{25}\b/gi, '<ulid>'],
  // Absolute, home and relative paths (a word before the slash makes it text: read/write), and Windows paths.
  [/(?<![\w.:/<>])(?:~|\.{1,2})?(?:\/[\w.@%+~-]+)+\/?/g, '<path>'],
  [/\b[a-z]:\\[^\s"'<>|?*]*/gi, '<path>'],
  [/\b0x[0-9a-f]+\b/gi, '<hex>'],
  // Hex ids of six or more characters with both a digit and a letter (a bare number is a number).
  [/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{6,}\b/gi, '<hex>'],
  // A status code says which error it is (HTTP 503 is not HTTP 404): kept after these words.
  [/(?<!\b(?:HTTP(?:\/[\d.]+)?|status|code|SMTP)[\s:=]*)(?<![A-Za-z_\d])\d+(?:[.,]\d+)*/gi, '<num>'],
]

/** The error's name and message with what varies between occurrences replaced by placeholders. */
export function normalizeErrorText(text: string): string {
  let out = text.length > TEXT_READ_MAX ? text.slice(0, TEXT_READ_MAX) : text
  for (const [pattern, placeholder] of PLACEHOLDERS) out = out.replace(pattern, placeholder)
  out = out.replace(/\s+/g, ' ').trim()
  return out.length > NORMALIZED_MAX ? out.slice(0, NORMALIZED_MAX) : out
}

interface Frame {
  file: string
  fn: string
}

// V8: `    at fn (file:1:2)`, `    at file:1:2`, `    at async fn (file:1:2)`; Firefox and Safari: `fn@file:1:2`.
const V8_FRAME = /^\s*at\s+(?:(?:async\s+)?(.*?)\s+\()?(.+?)(?::\d+)?(?::\d+)?\)?\s*$/
const GECKO_FRAME = /^\s*([^@\s]*)@(\S+?):\d+:\d+\s*$/

function parseFrame(line: string): Frame | null {
  const v8 = /^\s*at\s/.test(line) ? V8_FRAME.exec(line) : null
  const m = v8 ?? GECKO_FRAME.exec(line)
  // `at async Promise.all (index 0)`, `at <anonymous>`: no file to name.
  if (!m?.[2] || /^(?:index \d+|<anonymous>|native)$/.test(m[2])) return null
  return { fn: (m[1] ?? '').replace(/^new\s+/, '') || '<anonymous>', file: m[2] }
}

/** A user frame: not Node's own, not a dependency's. */
const isUserFrame = (f: Frame) =>
  !f.file.startsWith('node:') && !f.file.includes('/node_modules/') && !f.file.includes('\\node_modules\\')

/** The file as a short, install-independent name: its last two path segments, without scheme or query. */
function shortFile(file: string): string {
  const bare = file.replace(/^file:\/\//, '').replace(/[?#].*$/, '')
  return bare.split(/[/\\]/).filter(Boolean).slice(-2).join('/')
}

/** The first user frame of the stack, else its first frame, as `file:function`; null when it has none. */
export function topFrame(stack: string | null | undefined): string | null {
  if (!stack) return null
  const frames = stack
    .split('\n', STACK_LINES)
    .map((line) => parseFrame(line.slice(0, STACK_LINE_MAX)))
    .filter((f): f is Frame => f !== null)
  const top = frames.find(isUserFrame) ?? frames[0]
  return top ? `${shortFile(top.file)}:${top.fn}` : null
}

/** FNV-1a, 64 bits, over the UTF-8 bytes of `text`. */
function fnv1a64(text: string): bigint {
  const mask = (1n << 64n) - 1n
  let hash = 0xcbf29ce484222325n
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= BigInt(byte)
    hash = (hash * 0x100000001b3n) & mask
  }
  return hash
}

/** The fingerprint of an error: the same for every occurrence of one class, different between classes. */
export function fingerprintError(error: FingerprintInput): ErrorFingerprint {
  const name = normalizeErrorText(error.name ?? '')
  const message = normalizeErrorText(error.message)
  const normalized = name ? `${name}: ${message}` : message
  const frame = topFrame(error.stack)
  const hash = fnv1a64(`${normalized}\n${frame ?? ''}`)
  return { fingerprint: hash.toString(16).padStart(16, '0').slice(0, 12), normalized, frame }
}
