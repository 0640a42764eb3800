/**
 * The `docket` command program, and `run`, which runs one command line of it
 * and resolves to its exit code. The bin (main.ts) runs the process's own
 * arguments; tests run command lines in process, with their output caught,
 * instead of spawning `node --import tsx` for each one.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { Command, CommanderError } from 'commander'
import { isDocketError } from '../core/errors.js'
import { docketVersion } from '../storage/docket-version.js'
import { ConnectionError } from './client.js'
import { registerAdminCommands } from './commands/admin.js'
import { registerJobCommands } from './commands/jobs.js'
import { registerQueueCommands } from './commands/queues.js'
import { registerScheduleCommands } from './commands/schedules.js'
import { UsageError } from './config.js'

/** Where a command line run in process writes what the command prints. */
export interface CliOutput {
  stdout(text: string): void
  stderr(text: string): void
}

/** A fresh program per command line: Commander keeps the option values of the last parse on it. */
export function buildProgram(): Command {
  const program = new Command('docket')
    .description(
      'Docket, a durable job queue: serve the API, run workers, manage queues, jobs, schedules, batches and keys.',
    )
    .version(docketVersion())
    .showHelpAfterError()
    .exitOverride()
  registerAdminCommands(program)
  registerJobCommands(program)
  registerQueueCommands(program)
  registerScheduleCommands(program)
  return program
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2
  if (error instanceof UsageError) return 2
  if (error instanceof ConnectionError) return 3
  const code = (error as { code?: string }).code
  if (
    code === 'ECONNREFUSED' ||
    code === 'ENOTFOUND' ||
    code === '57P03' ||
    code === '3D000' ||
    code === '28P01'
  )
    return 3
  return 1
}

function describe(error: unknown): string {
  if (isDocketError(error)) return `${error.code}: ${error.message}`
  return (error as Error)?.message ?? String(error)
}

const caught = new AsyncLocalStorage<CliOutput>()
let routed = false

/**
 * The commands print through console and process.stdout/stderr. To catch a
 * run's output without changing every command, those writes are routed by
 * async context: a write made inside a run with `output` goes there, every
 * other write (the test runner's own, say) goes where it always went.
 */
function routeWrites(): void {
  if (routed) return
  routed = true
  for (const [stream, pick] of [
    [process.stdout, (o: CliOutput) => o.stdout.bind(o)],
    [process.stderr, (o: CliOutput) => o.stderr.bind(o)],
  ] as const) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const output = caught.getStore()
      if (!output) return write(chunk, ...rest)
      pick(output)(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString())
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined
      done?.()
      return true
    }) as typeof stream.write
  }
}

/**
 * Runs one command line (`argv` without node and the script) and resolves
 * to its exit code: 0 success; 1 the operation failed (a refused request, a
 * job that failed under --wait); 2 a usage error; 3 the server or database
 * could not be reached. With `output`, what the command prints goes there.
 * Commands that serve until a signal (`serve`, `worker`) are for the bin.
 */
export async function run(argv: string[], output?: CliOutput): Promise<number> {
  if (!output) return execute(argv)
  routeWrites()
  return caught.run(output, () => execute(argv))
}

async function execute(argv: string[]): Promise<number> {
  // A command reports a failed --wait through process.exitCode; read it as this run's, then put it back.
  const before = process.exitCode
  process.exitCode = undefined
  try {
    await buildProgram().parseAsync(argv, { from: 'user' })
    return Number(process.exitCode ?? 0)
  } catch (error) {
    // Commander has already printed its own usage errors and help.
    if (!(error instanceof CommanderError)) console.error(`docket: ${describe(error)}`)
    return exitCodeFor(error)
  } finally {
    process.exitCode = before
  }
}
