/** src/index.ts is the public API, for users only: no file inside src/ may import it (that makes cycles). */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { it } from 'node:test'

const SRC = resolve(import.meta.dirname, '../../src')
const INDEX = join(SRC, 'index.ts')

it('no file in src/ imports src/index.ts', () => {
  const offenders: string[] = []
  for (const entry of readdirSync(SRC, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue
    const file = join(entry.parentPath, entry.name)
    const source = readFileSync(file, 'utf8')
    for (const match of source.matchAll(/\bfrom\s+'(\.[^']*)'|\bimport\(\s*'(\.[^']*)'/g)) {
      const spec = match[1] ?? match[2]
      if (spec && resolve(dirname(file), spec.replace(/\.js$/, '.ts')) === INDEX)
        offenders.push(`${file.slice(SRC.length + 1)} imports ${spec}`)
    }
  }
  assert.deepEqual(offenders, [])
})
