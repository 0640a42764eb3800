/**
 * The CLI keeps up with the library: `docket add` takes every option of the
 * library's add (core/options.ts jobInput) and `docket jobs ls` every field
 * of its job listing (listJobsInput). The tables in src/cli/commands/jobs.ts
 * name the flag for each key; this checks the tables against the schemas'
 * keys, the flags against the commands' own, and that a command line with
 * every flag makes an input with every key, which the schema accepts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Command } from 'commander'
import { ADD_FLAGS, jobInputFrom, LIST_FLAGS, listFilterFrom } from '../../src/cli/commands/jobs.js'
import { buildProgram } from '../../src/cli/program.js'
import { type JobInput, jobInput, type ListJobsInput, listJobsInput, parse } from '../../src/core/options.js'

const ID = '0190f3c4-58a0-7000-8000-00000000000a'

function command(path: string[]): Command {
  let at: Command = buildProgram()
  for (const name of path) at = at.commands.find((c) => c.name() === name)!
  assert.ok(at, path.join(' '))
  return at
}

/** The flags and arguments a command has, as its help names them. */
function takes(cmd: Command): Set<string> {
  const args = cmd.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`))
  return new Set([...cmd.options.map((o) => o.long!), ...args])
}

/** What the command's action is handed for `argv`, instead of running it. */
async function parsed(path: string[], argv: string[]): Promise<unknown[]> {
  const program = buildProgram()
  let cmd: Command = program
  for (const name of path) cmd = cmd.commands.find((c) => c.name() === name)!
  let got: unknown[] = []
  cmd.action((...args: unknown[]) => {
    got = args
  })
  await program.parseAsync([...path, ...argv], { from: 'user' })
  return got
}

const addInput = async (argv: string[]): Promise<JobInput> => {
  const [queue, type, payload, flags] = await parsed(['add'], argv)
  return jobInputFrom(queue as string, type as string, payload as string | undefined, flags as never)
}

describe('the CLI takes every option of the library', () => {
  it('docket add: a flag (or argument) for every key of jobInput, and each is one the command has', () => {
    assert.deepEqual(Object.keys(ADD_FLAGS).sort(), Object.keys(jobInput.shape).sort())
    const has = takes(command(['add']))
    for (const [key, flags] of Object.entries(ADD_FLAGS))
      for (const flag of [flags].flat()) assert.ok(has.has(flag), `${key}: docket add has no ${flag}`)
  })

  it('docket jobs ls: a flag for every key of listJobsInput, and each is one the command has', () => {
    assert.deepEqual(Object.keys(LIST_FLAGS).sort(), Object.keys(listJobsInput.shape).sort())
    const has = takes(command(['jobs', 'ls']))
    for (const [key, flag] of Object.entries(LIST_FLAGS))
      assert.ok(has.has(flag), `${key}: docket jobs ls has no ${flag}`)
  })

  it('docket add with every flag makes an input with every option, which jobInput accepts', async () => {
    // runAt and delayMs, expiresAt and expiresInMs exclude each other: two command lines between them.
    const common = [
      ...['q', 'report', '{"n":1}', '--id', ID, '--priority', 'high', '--max-attempts', '4'],
      ...[
        '--backoff',
        'fixed',
        '--backoff-delay',
        '2s',
        '--backoff-max-delay',
        '1m',
        '--backoff-jitter',
        '0.5',
      ],
      ...['--timeout', '90s', '--owner', 'ann', '--group', 'acme', '--capabilities', 'gpu,cpu'],
      ...['--dedupe-key', 'k', '--dedupe-mode', 'debounce', '--dedupe-ttl', '1h', '--dedupe-max-wait', '30s'],
      ...['--depends-on', `${ID},${ID}`, '--on', 'completion', '--estimated-duration', '5m'],
    ]
    const dated = await addInput([
      ...common,
      ...['--run-at', '2030-01-01T00:00:00Z', '--expires-at', '2030-01-02T00:00:00+01:00'],
    ])
    const delayed = await addInput([...common, '--delay', '15m', '--expires-in', '2h'])
    for (const input of [dated, delayed]) parse(jobInput, input, 'job')
    assert.deepEqual(
      [...new Set([...Object.keys(dated), ...Object.keys(delayed)])].sort(),
      Object.keys(jobInput.shape).sort(),
    )
    assert.deepEqual(delayed, {
      queue: 'q',
      type: 'report',
      payload: { n: 1 },
      id: ID,
      priority: 'high',
      delayMs: 900_000,
      maxAttempts: 4,
      backoff: { type: 'fixed', delayMs: 2_000, maxDelayMs: 60_000, jitter: 0.5 },
      timeoutMs: 90_000,
      owner: 'ann',
      group: 'acme',
      capabilities: ['gpu', 'cpu'],
      dedupeKey: 'k',
      dedupeMode: 'debounce',
      dedupeTtlMs: 3_600_000,
      dedupeMaxWaitMs: 30_000,
      dependsOn: [
        { id: ID, on: 'completion' },
        { id: ID, on: 'completion' },
      ],
      estimatedDurationMs: 300_000,
      expiresInMs: 7_200_000,
    })
    assert.deepEqual(dated.runAt, '2030-01-01T00:00:00Z')
    assert.equal((await addInput(['q', 't', '--timeout', 'none'])).timeoutMs, null)
    assert.deepEqual((await addInput(['q', 't', '--depends-on', ID])).dependsOn, [ID])
    assert.equal((await addInput(['q', 't', '--priority', '80'])).priority, 80)
    await assert.rejects(addInput(['q', 't', '--on', 'completion']), /give --depends-on too/)
  })

  it('docket jobs ls with every flag makes a filter with every field, which listJobsInput accepts', async () => {
    const [flags] = await parsed(
      ['jobs', 'ls'],
      [
        ...['--queue', 'q', '--status', 'failed,cancelled', '--type', 't', '--owner', 'ann', '--batch', ID],
        ...['--fingerprint', '0123456789ab'],
        ...['--id', '0190f3', '--search', 'invoice', '--where', 'payload.n = 1', '--count', '--limit', '5'],
        ...['--cursor', 'abc', '--sort', 'priority', '--order', 'asc'],
      ],
    )
    const filter = listFilterFrom(flags as Record<string, unknown>)
    parse(listJobsInput, filter, 'job filter')
    assert.deepEqual(filter, {
      queue: 'q',
      status: ['failed', 'cancelled'],
      type: 't',
      owner: 'ann',
      batchId: ID,
      fingerprint: '0123456789ab',
      id: '0190f3',
      search: 'invoice',
      where: 'payload.n = 1',
      count: true,
      limit: 5,
      cursor: 'abc',
      sort: 'priority',
      order: 'asc',
    } satisfies Required<ListJobsInput>)
  })
})
