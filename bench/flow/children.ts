/** Forking bench:flow worker processes (flow/process.ts, with tsx) and stopping or killing them. */
import { type ChildProcess, fork } from 'node:child_process'
import { join } from 'node:path'
import type { ProcessConfig } from './process.js'

export interface FlowChild {
  id: string
  process: ChildProcess
  /** Resolves once the worker process is open (and started, with `start`). */
  ready: Promise<void>
}

export function spawnFlow(config: ProcessConfig): FlowChild {
  const child = fork(join(import.meta.dirname, 'process.ts'), [JSON.stringify(config)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const ready = new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve())
    child.once('exit', (code, signal) =>
      reject(new Error(`${config.id} exited before ready (${code ?? signal})`)),
    )
  })
  return { id: config.id, process: child, ready }
}

const exited = (c: FlowChild) =>
  c.process.exitCode !== null || c.process.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((r) => c.process.once('exit', () => r()))

/** Asks it to close its worker; SIGKILL after `timeoutMs`. */
export async function stopFlow(c: FlowChild, timeoutMs = 15_000): Promise<void> {
  const done = exited(c)
  if (c.process.connected) c.process.send('stop')
  const timer = setTimeout(() => c.process.kill('SIGKILL'), timeoutMs)
  await done
  clearTimeout(timer)
}

export async function killFlow(c: FlowChild): Promise<void> {
  const done = exited(c)
  c.process.kill('SIGKILL')
  await done
}
