/** The Markdown tables of docs/benchmarks.md's side-by-side section, from one run's results. */
import type { Results } from '../lib/results.js'
import { median, num, spread, summarize } from '../lib/stats.js'
import { BACKEND, SUPPLEMENTARY, SYSTEM_LABELS } from '../systems/index.js'
import type { SystemId } from '../systems/types.js'

const s = (v: number[] | undefined) => (v && v.length > 0 ? summarize(v) : undefined)
const med = (v: number[] | undefined) => (v && v.length > 0 ? median(v) : Number.NaN)
const table = (head: string[], rows: string[][]) =>
  [`| ${head.join(' | ')} |`, `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`]
    .concat(rows.map((r) => `| ${r.join(' | ')} |`))
    .join('\n')

export function figuresTable(r: Results): string {
  const rows = r.systems.map((id) => {
    const name = id.startsWith('docket')
      ? `**${SYSTEM_LABELS[id]}**`
      : SUPPLEMENTARY.has(id)
        ? `${SYSTEM_LABELS[id]} ‡`
        : SYSTEM_LABELS[id]
    const capped = r.capped[id] ? ' †' : ''
    return [
      name,
      spread(s(r.bulkAdd[id])),
      spread(s(r.throughput[id]?.one)) + capped,
      spread(s(r.throughput[id]?.two)) + capped,
      spread(s(r.pickup[id]?.medians)),
      spread(s(r.pickup[id]?.p99s)),
      spread(s(r.memoryMb[id])),
    ]
  })
  return table(
    [
      'system',
      'bulk add, jobs/s',
      'processing, 1 process, jobs/s',
      'processing, 2 processes, jobs/s',
      'pickup median, ms',
      'pickup p99, ms',
      'worker peak RSS, MB',
    ],
    rows,
  )
}

interface Figure {
  name: string
  higherIsBetter: boolean
  value: (id: SystemId) => number
}

const FIGURES = (r: Results): Figure[] => [
  { name: 'bulk add (jobs/s)', higherIsBetter: true, value: (id) => med(r.bulkAdd[id]) },
  { name: 'processing, 1 process (jobs/s)', higherIsBetter: true, value: (id) => med(r.throughput[id]?.one) },
  {
    name: 'processing, 2 processes (jobs/s)',
    higherIsBetter: true,
    value: (id) => med(r.throughput[id]?.two),
  },
  { name: 'pickup median (ms)', higherIsBetter: false, value: (id) => med(r.pickup[id]?.medians) },
  { name: 'pickup p99 (ms)', higherIsBetter: false, value: (id) => med(r.pickup[id]?.p99s) },
  { name: 'worker peak RSS (MB)', higherIsBetter: false, value: (id) => med(r.memoryMb[id]) },
]

function verdict(ratio: number, higherIsBetter: boolean): string {
  if (!Number.isFinite(ratio)) return 'n/a'
  const better = higherIsBetter ? ratio >= 1 : ratio <= 1
  const factor = ratio >= 1 ? ratio : 1 / ratio
  return `${num(ratio)} (${better ? '**Docket better**' : 'peer better'}, ${num(factor)}×)`
}

/** Docket / best peer, for every figure and both drivers; the best peer is chosen among all peers. */
export function ratiosTable(r: Results): string {
  const peers = r.systems.filter((id) => !id.startsWith('docket') && !SUPPLEMENTARY.has(id))
  const rows = FIGURES(r).map((f) => {
    const ranked = peers
      .filter((id) => Number.isFinite(f.value(id)))
      .sort((a, b) => (f.higherIsBetter ? f.value(b) - f.value(a) : f.value(a) - f.value(b)))
    const best = ranked[0]
    const cell = (docket: SystemId) =>
      best && r.systems.includes(docket) ? verdict(f.value(docket) / f.value(best), f.higherIsBetter) : 'n/a'
    return [
      f.name,
      best ? `${SYSTEM_LABELS[best]}: ${num(f.value(best))}` : 'n/a',
      `${num(f.value('docket-sqlite'))}: ${cell('docket-sqlite')}`,
      `${num(f.value('docket-postgres'))}: ${cell('docket-postgres')}`,
    ]
  })
  return table(
    ['figure (medians)', 'best peer', 'Docket (SQLite) / best peer', 'Docket (PostgreSQL) / best peer'],
    rows,
  )
}

export interface Target {
  name: string
  figure: string
  met: boolean | null
}

export function targets(r: Results): Target[] {
  const tp = (id: SystemId, k: 'one' | 'two') => med(r.throughput[id]?.[k])
  const ratio = (a: number, b: number) => a / b
  const out: Target[] = []
  const check = (name: string, value: number, goal: (v: number) => boolean, figure: string) =>
    out.push({ name, figure, met: Number.isFinite(value) ? goal(value) : null })
  for (const k of ['one', 'two'] as const) {
    const procs = k === 'one' ? '1 process' : '2 processes'
    const gw = ratio(tp('docket-postgres', k), tp('graphile-worker', k))
    check(`PostgreSQL throughput ≥ 1.5× graphile-worker (${procs})`, gw, (v) => v >= 1.5, `${num(gw)}×`)
    const boss = ratio(tp('docket-postgres', k), tp('pg-boss', k))
    check(`PostgreSQL throughput ≥ 3× pg-boss (${procs})`, boss, (v) => v >= 3, `${num(boss)}×`)
  }
  const pm = (id: SystemId) => med(r.pickup[id]?.medians)
  check(
    "PostgreSQL pickup median ≤ graphile-worker's",
    pm('docket-postgres') - pm('graphile-worker'),
    (v) => v <= 0,
    `${num(pm('docket-postgres'))} ms vs ${num(pm('graphile-worker'))} ms`,
  )
  const p99 = med(r.pickup['docket-postgres']?.p99s)
  check('PostgreSQL pickup p99 < 20 ms', p99, (v) => v < 20, `${num(p99)} ms`)
  for (const k of ['one', 'two'] as const) {
    const v = ratio(tp('docket-sqlite', k), tp('plainjob', k))
    check(
      `SQLite throughput ≥ plainjob's (${k === 'one' ? '1 process' : '2 processes'})`,
      v,
      (x) => x >= 1,
      `${num(v)}×`,
    )
  }
  for (const driver of ['sqlite', 'postgres'] as const) {
    const g = r.growth[driver]
    const v = g && g.length === 2 ? med(g[1]!.medians) / med(g[0]!.medians) : Number.NaN
    check(
      `${driver === 'sqlite' ? 'SQLite' : 'PostgreSQL'} claim at 1M finished jobs within 2× of 10k`,
      v,
      (x) => x <= 2,
      `${num(v)}×`,
    )
  }
  return out
}

export function targetsTable(r: Results): string {
  const mark = (m: boolean | null) => (m === null ? 'not measured' : m ? 'met' : '**missed**')
  return table(
    ['target (issue 7)', 'this run', ''],
    targets(r).map((t) => [t.name, t.figure, mark(t.met)]),
  )
}

export function limitsTable(r: Results): string {
  const pg8 = med(r.limits.pg8)
  const lite = med(r.limits.sqlite)
  const head = table(
    ['single-row UPDATE, one per transaction', 'commits/s'],
    [
      ['PostgreSQL, pgbench, 1 client', spread(s(r.limits.pg1))],
      ['PostgreSQL, pgbench, 8 clients', spread(s(r.limits.pg8))],
      ['SQLite, better-sqlite3, WAL, synchronous NORMAL, 1 connection', spread(s(r.limits.sqlite))],
    ],
  )
  const rows = r.systems
    .filter((id) => BACKEND[id] !== 'redis')
    .map((id) => {
      const best = Math.max(med(r.throughput[id]?.one), med(r.throughput[id]?.two))
      const limit = BACKEND[id] === 'postgres' ? pg8 : lite
      return [
        SYSTEM_LABELS[id],
        num(best),
        BACKEND[id] === 'postgres' ? 'pgbench, 8 clients' : 'SQLite',
        num(best / limit),
      ]
    })
  const fraction = table(['system', 'best processing, jobs/s', 'against', 'jobs per single-row commit'], rows)
  return `${head}\n\n${fraction}`
}

export function growthTable(r: Results): string {
  const rows: string[][] = []
  for (const driver of ['sqlite', 'postgres'] as const) {
    const g = r.growth[driver]
    if (!g) continue
    for (const step of g) {
      rows.push([
        driver === 'sqlite' ? 'SQLite' : 'PostgreSQL',
        num(step.finishedRows),
        spread(s(step.medians)),
        spread(s(step.p99s)),
        `${num(step.fillSeconds)} s`,
      ])
    }
  }
  return table(
    ['driver', 'finished jobs in the table', 'claim median, ms', 'claim p99, ms', 'rows inserted in'],
    rows,
  )
}
