/**
 * `docket/client` stays what it promises: typed by the document the server
 * serves (the committed api.generated.ts is regenerated and compared), and
 * runnable outside Node (nothing it imports, at any depth, is a Node
 * built-in, and its only package is openapi-fetch, with zod through the
 * shared bounds).
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { describe, it } from 'node:test'
import { clientTypesSource } from '../../scripts/client-types.js'

const root = resolve(import.meta.dirname, '..', '..')
const ALLOWED_PACKAGES = new Set(['openapi-fetch', 'zod'])

/** Every module the file imports at run time (type-only imports are erased), followed through relative paths. */
function runtimeImports(entry: string): { files: string[]; external: string[] } {
  const seen = new Set<string>()
  const external = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    const source = readFileSync(file, 'utf8')
    for (const m of source.matchAll(/^(?:import|export)\s+(?!type\b)([^'"]*?)from\s+'([^']+)'/gms)) {
      const clause = m[1]!.trim()
      // `import { type A, type B } from …` is erased too.
      if (
        /^\{[^}]*\}$/.test(clause) &&
        clause
          .slice(1, -1)
          .split(',')
          .every((n) => /^\s*type\s/.test(n) || !n.trim())
      )
        continue
      const spec = m[2]!
      if (spec.startsWith('.')) visit(join(dirname(file), spec.replace(/\.js$/, '.ts')))
      else external.add(spec)
    }
  }
  visit(entry)
  return { files: [...seen], external: [...external].sort() }
}

describe('docket/client', () => {
  it('is typed by the current OpenAPI document (run `npm run build:client` when this fails)', async () => {
    const committed = readFileSync(join(root, 'src/client/api.generated.ts'), 'utf8')
    assert.ok(committed === (await clientTypesSource()), 'src/client/api.generated.ts is behind the document')
  })

  it('imports no Node built-in and no package but openapi-fetch (and zod), at any depth', () => {
    const { files, external } = runtimeImports(join(root, 'src/client/index.ts'))
    assert.ok(files.length > 3)
    assert.deepEqual(
      external.filter((p) => !ALLOWED_PACKAGES.has(p)),
      [],
      `imports outside the allowed set, from ${files.map((f) => f.slice(root.length + 1)).join(', ')}`,
    )
  })
})
