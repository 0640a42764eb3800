/**
 * The peer queues live in bench/peers (their own package.json and lockfile),
 * so the project's own dependencies stay as they are. They are loaded at run
 * time from there, and typed by the small interfaces in bench/systems/, so
 * that `tsc` passes on a fresh clone where they are not installed yet.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

export const PEERS_DIR = join(import.meta.dirname, '..', 'peers')
const STAMP = join(PEERS_DIR, 'node_modules', '.bench-lock-sha256')

const lockHash = () =>
  createHash('sha256')
    .update(readFileSync(join(PEERS_DIR, 'package-lock.json')))
    .digest('hex')

/** `npm ci` in bench/peers, unless what is installed already matches the lockfile. */
export function ensurePeersInstalled(log: (line: string) => void): void {
  const hash = lockHash()
  if (existsSync(STAMP) && readFileSync(STAMP, 'utf8') === hash) {
    log('peers already installed (bench/peers/node_modules matches its lockfile)')
    return
  }
  log('installing the peer queues: npm ci --prefix bench/peers')
  execFileSync('npm', ['ci', '--prefix', PEERS_DIR, '--no-audit', '--no-fund', '--loglevel=error'], {
    stdio: 'inherit',
  })
  writeFileSync(STAMP, hash)
}

const requireFromPeers = createRequire(join(PEERS_DIR, 'package.json'))

/** Imports a package installed in bench/peers, typed as `T` (the slice of its public API the bench uses). */
export async function importPeer<T>(name: string): Promise<T> {
  const url = pathToFileURL(requireFromPeers.resolve(name)).href
  const mod = (await import(url)) as T & { default?: T }
  return mod
}

/** The installed version of a peer package. */
export function peerVersion(name: string): string {
  const pkg = JSON.parse(readFileSync(join(PEERS_DIR, 'node_modules', name, 'package.json'), 'utf8'))
  return String(pkg.version)
}
