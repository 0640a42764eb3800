#!/usr/bin/env node
/**
 * The `docket` command. Exit codes: 0 success; 1 the operation failed (a
 * refused request, a job that failed under --wait); 2 a usage error; 3 the
 * server or database could not be reached.
 */
import { Command, CommanderError } from 'commander'
import { isDocketError } from '../core/errors.js'
import { ConnectionError } from './client.js'
import { registerAdminCommands } from './commands/admin.js'
import { registerJobCommands } from './commands/jobs.js'
import { registerQueueCommands } from './commands/queues.js'
import { registerScheduleCommands } from './commands/schedules.js'
import { UsageError } from './config.js'

const program = new Command('docket')
  .description(
    'Docket, a durable job queue: serve the API, run workers, manage queues, jobs, schedules, batches and keys.',
  )
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride()

registerAdminCommands(program)
registerJobCommands(program)
registerQueueCommands(program)
registerScheduleCommands(program)

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

program.parseAsync().catch((error: unknown) => {
  const code = exitCodeFor(error)
  // Commander has already printed its own usage errors and help.
  if (!(error instanceof CommanderError)) console.error(`docket: ${describe(error)}`)
  process.exit(code)
})
