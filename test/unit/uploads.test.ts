/**
 * What the server checks in an uploaded file without a database: its name
 * (no directories, no control or bidi characters) and whether its content is
 * of its declared type, decided on the stream as it flows.
 */
import assert from 'node:assert/strict'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { describe, it } from 'node:test'
import {
  ContentCheck,
  checkMediaType,
  contentRule,
  DEFAULT_MEDIA_TYPES,
} from '../../src/artifacts/content.js'
import { cleanFileName } from '../../src/artifacts/storage.js'
import { DocketError } from '../../src/core/errors.js'
import { SAMPLES } from '../server/samples.js'

/** Runs `bytes`, cut into chunks of `chunkSize`, through a ContentCheck; returns what came out. */
async function check(mediaType: string, bytes: Buffer, chunkSize = 1024): Promise<Buffer> {
  const chunks: Buffer[] = []
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize))
  const out: Buffer[] = []
  await pipeline(
    Readable.from(chunks),
    new ContentCheck(mediaType, 'f'),
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        out.push(chunk)
        done()
      },
    }),
  )
  return Buffer.concat(out)
}

async function refused(mediaType: string, bytes: Buffer, chunkSize?: number): Promise<DocketError> {
  try {
    await check(mediaType, bytes, chunkSize)
  } catch (error) {
    assert.ok(error instanceof DocketError, String(error))
    assert.equal(error.code, 'UNSUPPORTED_MEDIA_TYPE')
    return error
  }
  return assert.fail(`${mediaType} was accepted`)
}

describe('uploads: file names', () => {
  it('strips the right-to-left override and every other bidi control', () => {
    assert.equal(cleanFileName('invoice\u202Efdp.exe'), 'invoicefdp.exe')
    const bidi = '\u200E\u200F\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069\u061C'
    assert.equal(cleanFileName(`a${bidi}b.txt`), 'ab.txt')
    assert.equal(cleanFileName(`\u202E.hidden`), 'hidden', 'a bidi control does not shield a leading dot')
    assert.equal(cleanFileName('\u202E\u2066'), 'file')
  })

  it('strips C0, DEL and C1 controls, keeps letters of every script and emoji', () => {
    assert.equal(cleanFileName('a\u0000b\u001f\u007fc\u0085\u009fd.txt'), 'abcd.txt')
    assert.equal(cleanFileName('résumé 履歴書 сводка 😀.pdf'), 'résumé 履歴書 сводка 😀.pdf')
  })

  it('keeps no directory, and replaces a lone surrogate from a library caller', () => {
    assert.equal(cleanFileName('../../etc/passwd'), 'passwd')
    assert.equal(cleanFileName('..\\..\\boot.ini'), 'boot.ini')
    assert.equal(cleanFileName('a\ud800.txt'), 'a\ufffd.txt')
    assert.equal([...cleanFileName(`${'😀'.repeat(300)}`)].length, 200, 'cut by characters, not halves')
  })
})

describe('uploads: declared type against content', () => {
  it('knows which rule covers each accepted type', () => {
    const rules = Object.fromEntries(DEFAULT_MEDIA_TYPES.map((t) => [t, contentRule(t)]))
    assert.deepEqual(rules, {
      'application/pdf': 'signature',
      'text/plain': 'text',
      'text/csv': 'text',
      'text/markdown': 'text',
      'application/json': 'text',
      'image/png': 'signature',
      'image/jpeg': 'signature',
      'image/webp': 'signature',
      'application/zip': 'signature',
      'application/octet-stream': 'none',
    })
  })

  it('passes each accepted binary type whose content is of that type, byte for byte', async () => {
    for (const [type, bytes] of Object.entries(SAMPLES)) {
      for (const chunkSize of [1, 7, 65536]) {
        assert.deepEqual(await check(type, bytes, chunkSize), bytes, `${type} in chunks of ${chunkSize}`)
      }
    }
  })

  it('refuses a binary type whose content is another type, or text', async () => {
    const e = await refused('image/jpeg', SAMPLES['image/png'])
    assert.match(e.message, /declared image\/jpeg but its content is image\/png/)
    await refused('application/pdf', Buffer.from('not a pdf'))
    await refused('image/png', Buffer.from('<svg onload="alert(1)"/>'))
    await refused('image/webp', SAMPLES['application/pdf'])
    await refused('application/zip', Buffer.from('PK but not a zip'))
    await refused('image/png', Buffer.alloc(0))
  })

  it('passes a file longer than the sample it decides on, unchanged', async () => {
    const big = Buffer.concat([SAMPLES['image/png'], Buffer.alloc(300_000, 7)])
    assert.deepEqual(await check('image/png', big, 65536), big)
  })

  it('passes UTF-8 text, a character split across chunks included, and refuses other bytes', async () => {
    const text = Buffer.from('naïve, café, 履歴書, 😀\n'.repeat(500))
    for (const type of ['text/plain', 'text/csv', 'text/markdown', 'application/json'])
      assert.deepEqual(await check(type, text, 3), text)
    assert.deepEqual(await check('text/plain', Buffer.alloc(0)), Buffer.alloc(0))
    await refused('text/plain', SAMPLES['image/png'])
    await refused('text/csv', Buffer.from([0x61, 0x2c, 0xff, 0xfe]))
    const e = await refused('application/json', Buffer.concat([text, Buffer.from([0xc3])]), 4096)
    assert.match(e.message, /is not UTF-8 text/, 'a multi-byte character cut off at the end')
  })

  it('takes application/octet-stream as declared', async () => {
    const bytes = Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0xff])
    assert.deepEqual(await check('application/octet-stream', bytes), bytes)
  })

  it('refuses a declared type outside the allowed list, parameters and case aside', () => {
    checkMediaType('Text/Plain; charset=utf-8', DEFAULT_MEDIA_TYPES)
    assert.throws(
      () => checkMediaType('application/x-msdownload', DEFAULT_MEDIA_TYPES),
      (e) => e instanceof DocketError && e.code === 'UNSUPPORTED_MEDIA_TYPE',
    )
  })
})
