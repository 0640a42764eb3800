/**
 * The TypeScript compilers a consumer of the package may use, for the
 * package suite's type checks: the repository's own (5.9, a devDependency)
 * and TypeScript 7, the native compiler that `npm i -D typescript` installs
 * now. TypeScript 7 is not a dependency of this repository (one `typescript`
 * per project), so it is installed from the registry into a cache directory
 * named by its version, once, and kept for the next run.
 *
 * TypeScript 7.0 ships as `typescript` (bin `tsc`, a launcher for the Go
 * binary in the platform package @typescript/typescript-<os>-<arch>, an
 * optional dependency).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const ROOT = join(import.meta.dirname, '..', '..')

/** The TypeScript 7 release the consumer test compiles with: pinned, so a run is repeatable. */
export const TYPESCRIPT_7 = '7.0.2'

export interface Compiler {
  name: string
  /** Arguments for process.execPath that run this compiler's tsc. */
  tsc: string[]
}

/** The repository's TypeScript (5.9). */
export function repositoryTypescript(): Compiler {
  return { name: 'TypeScript 5.9', tsc: [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')] }
}

/** TypeScript 7, from the cache, installed there first when it is missing (a few seconds). */
export function typescript7(): Compiler {
  const cache = join(tmpdir(), 'docket-test-typescript', TYPESCRIPT_7)
  const tsc = join(cache, 'node_modules', 'typescript', 'bin', 'tsc')
  if (!existsSync(tsc)) {
    // Installed beside, then renamed into place, so a reader never sees half an install.
    const building = `${cache}.${process.pid}.tmp`
    rmSync(building, { recursive: true, force: true })
    mkdirSync(building, { recursive: true })
    writeFileSync(join(building, 'package.json'), JSON.stringify({ name: 'typescript-7', private: true }))
    try {
      execFileSync(
        'npm',
        ['install', '--no-audit', '--no-fund', '--prefer-offline', `typescript@${TYPESCRIPT_7}`],
        { cwd: building, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      )
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string }
      throw new Error(`could not install typescript@${TYPESCRIPT_7}: ${e.message}\n${e.stdout}\n${e.stderr}`)
    }
    try {
      renameSync(building, cache)
    } catch {
      rmSync(building, { recursive: true, force: true })
    }
  }
  return { name: `TypeScript ${TYPESCRIPT_7}`, tsc: [tsc] }
}
