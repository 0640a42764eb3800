/**
 * The npm package as a user installs it, built once per state of the sources
 * and shared by every suite that needs it: `npm pack` (whose prepack builds
 * dist/ and dashboard/dist), then `npm install <tarball>` into an empty
 * project. Both are kept in a cache directory named by a hash of what pack
 * reads, so a second run, or a second suite, finds them there.
 *
 * `npm test` runs this before any suite (`node --import tsx test/support/artifacts.ts`),
 * so that pack's rebuild of dashboard/dist never races a dashboard suite that
 * serves it; a suite run on its own builds here on a cache miss.
 *
 * Where the time went (issue 26): the install compiled SQLite from C for
 * better-sqlite3 (≈ 250 s on 2 cores), because prebuild-install cannot reach
 * GitHub here. The install now finds a prebuilt binary made from the
 * repository's own build of the same version (prebuild-install's
 * local-prebuilds), as a user online gets one downloaded: 20 s instead.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'

const ROOT = join(import.meta.dirname, '..', '..')
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string

/** What `npm pack` reads: a change to any of these makes a new tarball. */
const PACKED_FROM = [
  'package.json',
  'package-lock.json',
  'README.md',
  'LICENSE',
  'tsconfig.json',
  'tsconfig.build.json',
  'src',
  'dashboard',
  'scripts',
]
const NOT_SOURCES = new Set(['dist', 'node_modules'])

export interface Installed {
  /** The packed tarball, docket-<version>.tgz. */
  tarball: string
  /** The paths inside the tarball, without their `package/` prefix. */
  files: string[]
  /** A project with the tarball installed: its node_modules holds docket and its dependencies. */
  project: string
}

function hashSources(): string {
  const hash = createHash('sha256')
  const add = (path: string) => {
    if (!existsSync(path)) return
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) if (!NOT_SOURCES.has(name)) add(join(path, name))
      return
    }
    hash.update(relative(ROOT, path)).update('\0').update(readFileSync(path)).update('\0')
  }
  for (const p of PACKED_FROM) add(join(ROOT, p))
  hash.update(process.version)
  return hash.digest('hex').slice(0, 16)
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  try {
    return execFileSync(command, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string }
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}: ${e.message}\n${e.stdout}\n${e.stderr}`)
  }
}

/**
 * A prebuild-install tarball of the repository's better-sqlite3 binary,
 * named as the release asset it stands for, in `dir`; null when the
 * repository has no built better-sqlite3 (then the install builds its own).
 */
function betterSqlitePrebuild(dir: string): string | null {
  let pkg: string
  try {
    pkg = createRequire(join(ROOT, 'package.json')).resolve('better-sqlite3/package.json')
  } catch {
    return null
  }
  const home = join(pkg, '..')
  if (!existsSync(join(home, 'build', 'Release', 'better_sqlite3.node'))) return null
  const { version } = JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }
  const { platform, arch } = process
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${platform}-${arch}.tar.gz`
  mkdirSync(dir, { recursive: true })
  run('tar', ['-czf', join(dir, name), 'build/Release/better_sqlite3.node'], home)
  return dir
}

function build(into: string): void {
  rmSync(into, { recursive: true, force: true })
  mkdirSync(into, { recursive: true })
  run('npm', ['pack', '--pack-destination', into, '--silent'], ROOT)
  const project = join(into, 'app')
  mkdirSync(project)
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }))
  const prebuilds = betterSqlitePrebuild(join(into, 'prebuilds'))
  const env = { ...process.env }
  if (prebuilds) env.npm_config_better_sqlite3_local_prebuilds = prebuilds
  run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', join(into, `docket-${VERSION}.tgz`)],
    project,
    env,
  )
}

/**
 * The package built from the sources as they are now, and installed into a
 * project: from the cache when these sources were built before, else built
 * now (a minute or so) and kept for the next caller.
 */
export function installedPackage(): Installed {
  const cache = join(tmpdir(), 'docket-test-artifacts')
  const dir = join(cache, hashSources())
  const tarball = join(dir, `docket-${VERSION}.tgz`)
  if (!existsSync(join(dir, 'app', 'node_modules', 'docket', 'package.json'))) {
    // Built beside, then renamed into place: a reader never sees half a build,
    // and of two builds of the same sources the first to finish is kept.
    const building = `${dir}.${process.pid}.tmp`
    build(building)
    try {
      renameSync(building, dir)
    } catch {
      rmSync(building, { recursive: true, force: true })
    }
    for (const old of readdirSync(cache))
      if (join(cache, old) !== dir && !old.endsWith('.tmp'))
        rmSync(join(cache, old), { recursive: true, force: true })
  }
  const files = run('tar', ['-tzf', tarball], dir)
    .split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''))
  return { tarball, files, project: join(dir, 'app') }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = Date.now()
  const { tarball } = installedPackage()
  // On a cache hit pack did not run here, and this checkout may have no dashboard/dist yet.
  run(process.execPath, [join(ROOT, 'scripts', 'build-dashboard.mjs'), '--quiet'], ROOT)
  console.log(`# package and dashboard built: ${tarball} (${Math.round((Date.now() - started) / 1000)} s)`)
}
