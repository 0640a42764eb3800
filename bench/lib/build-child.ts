/**
 * The worker processes run plain JavaScript, as a queue runs in production:
 * bench/child.ts and the bench's own code are bundled once per run into
 * bench/.build/child.mjs, and Docket is loaded from the built package
 * (dist/, `npm run build`), so no process pays for an in-process TypeScript
 * compiler (tsx alone was about 15 MB of every worker's RSS, peers' included).
 * The peers are imported from bench/peers at run time, as before.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { build } from 'esbuild'

const BENCH = join(import.meta.dirname, '..')
const ROOT = join(BENCH, '..')
/** The bundle's entry; it sits one level under bench/ so that bench/lib/peers.ts finds bench/peers from it too. */
export const CHILD_BUNDLE = join(BENCH, '.build', 'child.mjs')

export async function buildChild(log: (line: string) => void): Promise<void> {
  log('building Docket (npm run build) and the worker processes (bench/.build/child.mjs)')
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' })
  await build({
    entryPoints: [join(BENCH, 'child.ts')],
    outdir: join(BENCH, '.build'),
    outExtension: { '.js': '.mjs' },
    bundle: true,
    // Each system's module (and the packages it imports) a chunk of its own, loaded only by
    // the process that runs that system, as the sources' dynamic imports meant.
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    // Every package stays an import of its own, resolved from node_modules as usual.
    packages: 'external',
    logLevel: 'warning',
    plugins: [
      {
        name: 'docket-from-dist',
        setup(b) {
          // Docket as its users load it: the built package, not its sources.
          b.onResolve({ filter: /\/src\/index\.js$/ }, () => ({
            path: join(ROOT, 'dist', 'index.js'),
            external: true,
          }))
        },
      },
    ],
  })
}
