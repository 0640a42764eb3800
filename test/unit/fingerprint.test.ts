/** Error fingerprints (core/fingerprint.ts) over a corpus of real-looking errors: one class, one fingerprint. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { fingerprintError, normalizeErrorText, topFrame } from '../../src/core/fingerprint.js'

const stackAt = (...frames: string[]) => ['Error: x', ...frames.map((f) => `    at ${f}`)].join('\n')
const RENDER = stackAt(
  'renderPage (/srv/app/releases/41/dist/render.js:120:15)',
  'async Promise.all (index 0)',
  'process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
)

/** Each class: messages that must share a fingerprint; every class must differ from every other. */
const CORPUS: Record<string, { name?: string | null; message: string; stack?: string | null }[]> = {
  smtpRejected: [
    {
      message:
        '550 5.1.1 <alice@example.com>: Recipient address rejected: User unknown in virtual mailbox table',
    },
    {
      message:
        '550 5.1.1 <bob.smith+news@mail.example.org>: Recipient address rejected: User unknown in virtual mailbox table',
    },
  ],
  smtpGreylisted: [
    {
      message:
        '451 4.7.1 <carol@example.com>: Recipient address rejected: Greylisted, try again in 300 seconds',
    },
    {
      message: '451 4.7.1 <dan@example.net>: Recipient address rejected: Greylisted, try again in 60 seconds',
    },
  ],
  timeout: [
    { name: 'TimeoutError', message: 'operation timed out after 30000ms', stack: RENDER },
    {
      name: 'TimeoutError',
      message: 'operation timed out after 5000ms',
      stack: RENDER.replace(':120:15', ':131:9'),
    },
  ],
  deckPage: [
    { message: 'page 3 of deck 01JE4ZQ8M2V6X9T3K7B5N1R0CD failed' },
    { message: 'page 4 of deck 01KF5ARBN3W7Y0V4M8C6P2S1DE failed' },
  ],
  http503: [
    {
      name: 'HTTPError',
      message: 'HTTP 503 Service Unavailable from https://api.example.com/v1/decks/8812/pages?page=3',
    },
    {
      name: 'HTTPError',
      message: 'HTTP 503 Service Unavailable from https://cdn.example.net/assets/a1b2c3d4e5f6.png',
    },
  ],
  http404: [{ name: 'HTTPError', message: 'HTTP 404 Not Found from https://api.example.com/v1/decks/8812' }],
  enoent: [
    { message: "ENOENT: no such file or directory, open '/var/data/uploads/2026/12/08/report-17.pdf'" },
    { message: "ENOENT: no such file or directory, open '/tmp/docket-x81/in.pdf'" },
    {
      message: "ENOENT: no such file or directory, open 'C:\\data\\uploads\\9.pdf'",
    },
  ],
  pgUnique: [
    {
      name: 'error',
      message: 'duplicate key value violates unique constraint "users_email_key"',
    },
    { name: 'error', message: 'duplicate key value violates unique constraint "orders_pkey"' },
  ],
  pgMissingRelation: [
    { name: 'error', message: 'relation "public.invoices_2026_12" does not exist' },
    { name: 'error', message: 'relation "accounts" does not exist' },
  ],
  jobNotFound: [
    { message: 'job 0193a3f2-7c4e-7b21-9a0f-3c2d1e0b9a88 not found at 2026-12-08T03:53:14.120Z' },
    { message: 'job 0193a3f2-0000-7b21-9a0f-000000000001 not found at 2026-12-07T21:00:00Z' },
  ],
  mongoObjectId: [
    { message: 'document 65f1c2a9e4b0d3f8a1c2b3d4 is locked by 0x7fa3' },
    { message: 'document 65f1c2a9e4b0d3f8a1c2ffff is locked by 0x1' },
  ],
  // Same message, thrown from another function: another class.
  timeoutElsewhere: [
    {
      name: 'TimeoutError',
      message: 'operation timed out after 1000ms',
      stack: stackAt('uploadDeck (/srv/app/releases/41/dist/upload.js:20:3)'),
    },
  ],
}

describe('error fingerprints', () => {
  it('gives every error of one class the same fingerprint, and different classes different ones', () => {
    const byClass = Object.entries(CORPUS).map(([name, errors]) => {
      const prints = errors.map((e) => fingerprintError(e))
      assert.equal(
        new Set(prints.map((p) => p.fingerprint)).size,
        1,
        `${name}: ${prints.map((p) => p.normalized).join(' | ')}`,
      )
      return [name, prints[0]!] as const
    })
    const seen = new Map<string, string>()
    for (const [name, print] of byClass) {
      assert.match(print.fingerprint, /^[0-9a-f]{12}$/)
      const other = seen.get(print.fingerprint)
      assert.equal(other, undefined, `${name} and ${other} share ${print.fingerprint} (${print.normalized})`)
      seen.set(print.fingerprint, name)
    }
  })

  it('replaces what varies with placeholders and keeps the words and status codes', () => {
    const n = (message: string, name?: string) => fingerprintError({ name, message }).normalized
    assert.equal(n('page 3 of deck 01JE4ZQ8M2V6X9T3K7B5N1R0CD failed'), 'page <num> of deck <ulid> failed')
    assert.equal(
      n('HTTP 503 Service Unavailable from https://api.example.com/x/1', 'HTTPError'),
      'HTTPError: HTTP 503 Service Unavailable from <url>',
    )
    assert.equal(n('timed out after 30000ms (attempt 2.5)'), 'timed out after <num>ms (attempt <num>)')
    assert.equal(n("can't open 'x.pdf' for read/write"), "can't open <str> for read/write")
    assert.equal(n('mail to bob@example.com at 2026-12-08 03:53:14'), 'mail to <email> at <time>')
    assert.equal(n('id 7f3e9a2c-1b4d-4e8f-9a0b-1c2d3e4f5a6b'), 'id <uuid>')
    assert.equal(n('wrote ~/docket/out.json and C:\\Users\\me\\x.txt'), 'wrote <path> and <path>')
    assert.equal(n('utf8 decode of s3 object deadbeef42 failed'), 'utf8 decode of s3 object <hex> failed')
    assert.equal(n('  two\n  lines  '), 'two lines')
    assert.equal(normalizeErrorText('x'.repeat(2000)).length, 500)
  })

  it("joins the stack's top user frame, file and function, without line or column", () => {
    assert.equal(topFrame(RENDER), 'dist/render.js:renderPage')
    assert.equal(
      topFrame(
        stackAt(
          'Socket.emit (node:events:518:28)',
          'Parser.parse (/srv/app/node_modules/pg-protocol/dist/parser.js:40:38)',
          'new Repository (file:///srv/app/src/repo.ts?v=3:12:5)',
        ),
      ),
      'src/repo.ts:Repository',
    )
    // Only Node's and the dependencies' own frames: the first of them.
    assert.equal(topFrame(stackAt('Socket.emit (node:events:518:28)')), 'node:events:Socket.emit')
    assert.equal(topFrame(stackAt('/srv/app/dist/main.js:3:1')), 'dist/main.js:<anonymous>')
    assert.equal(topFrame('render@https://app.example.com/assets/app.js:10:5'), 'assets/app.js:render')
    assert.equal(topFrame('Error: no frames here, mail a@b.com'), null)
    assert.equal(topFrame(null), null)
    assert.equal(fingerprintError({ message: 'x', stack: RENDER }).frame, 'dist/render.js:renderPage')
  })

  it('reads a bounded part of a huge message or stack, in bounded time', () => {
    const started = performance.now()
    const quotes = "'a ".repeat(500_000)
    const print = fingerprintError({
      message: quotes,
      stack: `${'    at f (x'.repeat(5_000)}\n`.repeat(100),
    })
    assert.ok(print.normalized.length <= 500)
    assert.equal(
      fingerprintError({ message: `${quotes}different tail` }).fingerprint,
      fingerprintError({ message: quotes }).fingerprint,
    )
    assert.ok(performance.now() - started < 2_000, `took ${performance.now() - started} ms`)
  })

  it('is deterministic and tells names apart', () => {
    const a = fingerprintError({ name: 'TypeError', message: 'x is undefined' })
    assert.deepEqual(fingerprintError({ name: 'TypeError', message: 'x is undefined' }), a)
    assert.notEqual(
      fingerprintError({ name: 'RangeError', message: 'x is undefined' }).fingerprint,
      a.fingerprint,
    )
    assert.notEqual(fingerprintError({ name: null, message: 'x is undefined' }).fingerprint, a.fingerprint)
  })
})
