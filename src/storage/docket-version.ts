/**
 * This package's version, read once from its package.json (one folder above
 * src/ and dist/ alike). The schema runners record it beside each living
 * function they write, so that an older Docket never puts back older text
 * over a newer one's (core/schema.ts).
 */
import { readFileSync } from 'node:fs'

let version: string | null = null

export function docketVersion(): string {
  version ??= (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string
    }
  ).version
  return version
}
