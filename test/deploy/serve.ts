/**
 * `docket serve` in a child process for the deployment tests: started on a
 * free port, its output kept, stopped with SIGTERM (or killed) at the end.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { freePort } from '../reliability/support.js'

const root = join(import.meta.dirname, '..', '..')

export interface Served {
  base: string
  port: number
  process: ChildProcess
  /** stdout and stderr so far. */
  output(): string
  stop(): Promise<void>
}

/** Runs `docket serve --port <free> ...args` with `env` added, in `cwd` (default the repository). */
export async function startServe(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<Served> {
  const port = await freePort()
  const child = spawn(
    process.execPath,
    [
      '--import',
      import.meta.resolve('tsx'),
      join(root, 'src/cli/main.ts'),
      'serve',
      '--port',
      String(port),
      ...args,
    ],
    { cwd: options.cwd ?? root, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  child.stdout!.on('data', (c: Buffer) => {
    output += c.toString()
  })
  child.stderr!.on('data', (c: Buffer) => {
    output += c.toString()
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`docket serve did not start in 60 s: ${output}`)), 60_000)
    child.stdout!.on('data', () => {
      if (output.includes('Docket is serving')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`docket serve exited with ${code}: ${output}`))
    })
  })
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    },
  }
}
