/** The Markdown tables of docs/benchmarks.md's side-by-side section, from one run's results. */
import type { PerJob, Results } from '../lib/results.js'
import { median, num, spread, summarize } from '../lib/stats.js'
import { backendOf, isDocket, KIND_LABELS, ROWS, SYSTEM_LABELS } from '../systems/index.js'
import type { SystemId, SystemKind } from '../systems/types.js'

const s = (v: number[] | undefined) => (v && v.length > 0 ? summarize(v) : undefined)
const med = (v: number[] | undefined) => (v && v.length > 0 ? median(v) : Number.NaN)
const table = (head: string[], rows: string[][]) =>
  [`| ${head.join(' | ')} |`, `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`]
    .concat(rows.map((r) => `| ${r.join(' | ')} |`))
    .join('\n')

/** One cost per job over a row's runs with this many processes (nulls dropped). */
export const costs = (r: Results, id: SystemId, k: 'one' | 'two', pick: keyof PerJob) =>
  (r.perJob[id]?.[k] ?? []).map((p) => p[pick]).filter((v): v is number => v !== null)

export function figuresTable(r: Results): string {
  const rows = r.systems.map((id) => {
    const name = isDocket(id) ? `**${SYSTEM_LABELS[id]}**` : SYSTEM_LABELS[id]
    const capped = r.capped[id] ? ' †' : ''
    return [
      name,
      spread(s(r.bulkAdd[id])),
      spread(s(r.throughput[id]?.one)) + capped,
      spread(s(r.throughput[id]?.two)) + capped,
      spread(s(r.pickup[id]?.medians)),
      spread(s(r.pickup[id]?.p99s)),
      spread(s(r.memoryMb[id])),
      spread(s(costs(r, id, 'one', 'workerCpuUs'))),
      spread(s(costs(r, id, 'one', 'serverCpuUs'))),
      spread(s(costs(r, id, 'one', 'walBytes'))),
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
      'worker CPU, µs/job',
      'database CPU, µs/job',
      'WAL, bytes/job',
    ],
    rows,
  )
}

/** The rows of one system (its common-setting row and its best-settings row) that this run measured. */
const rowsOf = (r: Results, kind: SystemKind) => r.systems.filter((id) => ROWS[id].kind === kind)

/** A system's figure at its best: the best median over its rows that have one. */
function bestOf(
  r: Results,
  kind: SystemKind,
  value: (id: SystemId) => number,
  higherIsBetter: boolean,
): number {
  const values = rowsOf(r, kind)
    .map(value)
    .filter((v) => Number.isFinite(v))
  if (values.length === 0) return Number.NaN
  return higherIsBetter ? Math.max(...values) : Math.min(...values)
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

const PEERS: SystemKind[] = ['graphile-worker', 'pg-boss', 'sidequest', 'plainjob', 'bullmq']

/** Docket / best peer, for every figure and both drivers; each system at its best row, the best peer among all peers. */
export function ratiosTable(r: Results): string {
  const rows = FIGURES(r).map((f) => {
    const at = (kind: SystemKind) => bestOf(r, kind, f.value, f.higherIsBetter)
    const ranked = PEERS.filter((k) => Number.isFinite(at(k))).sort((a, b) =>
      f.higherIsBetter ? at(b) - at(a) : at(a) - at(b),
    )
    const best = ranked[0]
    const cell = (docket: SystemKind) => {
      const v = at(docket)
      return `${num(v)}: ${best ? verdict(v / at(best), f.higherIsBetter) : 'n/a'}`
    }
    return [
      f.name,
      best ? `${KIND_LABELS[best]}: ${num(at(best))}` : 'n/a',
      cell('docket-sqlite'),
      cell('docket-postgres'),
    ]
  })
  return table(
    [
      'figure (medians, each system at its best row)',
      'best peer',
      'Docket (SQLite) / best peer',
      'Docket (PostgreSQL) / best peer',
    ],
    rows,
  )
}

export interface Target {
  name: string
  figure: string
  met: boolean | null
}

const PG_PEERS: SystemKind[] = ['graphile-worker', 'pg-boss', 'sidequest']
const PROCS = { one: '1 process', two: '2 processes' } as const

/** The targets of issue 13, each with this run's figure. */
export function targets(r: Results): Target[] {
  const out: Target[] = []
  const check = (name: string, value: number, goal: (v: number) => boolean, figure: string) =>
    out.push({ name, figure, met: Number.isFinite(value) ? goal(value) : null })
  const tp = (k: 'one' | 'two') => (id: SystemId) => med(r.throughput[id]?.[k])
  const has = (id: SystemId) => r.systems.includes(id)
  /** The best of these peers' rows (all rows, or only the common-setting ones), and which it was. */
  const bestPeer = (kinds: SystemKind[], value: (id: SystemId) => number, commonOnly: boolean) => {
    const ids = r.systems.filter(
      (id) => kinds.includes(ROWS[id].kind) && (!commonOnly || !ROWS[id].best) && Number.isFinite(value(id)),
    )
    const best = ids.sort((a, b) => value(b) - value(a))[0]
    return best ? { id: best, v: value(best) } : null
  }
  const ratioTarget = (
    name: string,
    docket: number,
    peer: { id: SystemId; v: number } | null,
    goal: number,
  ) => {
    const ratio = peer ? docket / peer.v : Number.NaN
    check(
      name,
      ratio,
      (x) => x >= goal,
      peer ? `${num(ratio)}× (${num(docket)} vs ${SYSTEM_LABELS[peer.id]} ${num(peer.v)})` : 'n/a',
    )
  }
  for (const k of ['one', 'two'] as const) {
    const docket = bestOf(r, 'docket-postgres', tp(k), true)
    ratioTarget(
      `PostgreSQL processing ≥ 1.5× the best PostgreSQL peer, best settings (${PROCS[k]})`,
      docket,
      bestPeer(PG_PEERS, tp(k), false),
      1.5,
    )
  }
  const at10 = (k: 'one' | 'two') => (id: SystemId) => (has(id) ? tp(k)(id) : Number.NaN)
  for (const k of ['one', 'two'] as const) {
    ratioTarget(
      `10 in flight: PostgreSQL ≥ 1.5× the best PostgreSQL peer (${PROCS[k]})`,
      at10(k)('docket-postgres'),
      bestPeer(PG_PEERS, tp(k), true),
      1.5,
    )
  }
  for (const k of ['one', 'two'] as const) {
    ratioTarget(
      `10 in flight: SQLite ≥ 1.5× plainjob (${PROCS[k]})`,
      at10(k)('docket-sqlite'),
      bestPeer(['plainjob'], tp(k), true),
      1.5,
    )
  }
  for (const k of ['one', 'two'] as const) {
    ratioTarget(
      `10 in flight: SQLite ≥ BullMQ (${PROCS[k]})`,
      at10(k)('docket-sqlite'),
      bestPeer(['bullmq'], tp(k), true),
      1,
    )
  }
  for (const [pick, what, unit] of [
    ['walBytes', 'WAL', 'bytes'],
    ['serverCpuUs', 'PostgreSQL CPU', 'µs'],
  ] as const) {
    for (const [docket, peer, where] of [
      ['docket-postgres', 'graphile-worker', '10 in flight'],
      ['docket-postgres-best', 'graphile-worker-best', 'best settings'],
    ] as const) {
      const d = med(costs(r, docket, 'one', pick))
      const g = med(costs(r, peer, 'one', pick))
      check(
        `${what} per job ≤ graphile-worker's (${where}, 1 process)`,
        d - g,
        (v) => v <= 0,
        `${num(d)} vs ${num(g)} ${unit}`,
      )
    }
  }
  const bulk = (kind: SystemKind) => med(rowsOf(r, kind).flatMap((id) => r.bulkAdd[id] ?? []))
  const pgBulk = bulk('docket-postgres') / bulk('graphile-worker')
  check(
    "Bulk add: PostgreSQL ≥ 1.5× graphile-worker's addJobs",
    pgBulk,
    (v) => v >= 1.5,
    `${num(pgBulk)}× (${num(bulk('docket-postgres'))} vs ${num(bulk('graphile-worker'))} jobs/s)`,
  )
  const liteBulk = bulk('docket-sqlite')
  check('Bulk add: SQLite ≥ 150,000 jobs/s', liteBulk, (v) => v >= 150_000, `${num(liteBulk)} jobs/s`)
  const pm = med(r.pickup['docket-postgres']?.medians)
  check('PostgreSQL pickup median ≤ 2 ms', pm, (v) => v <= 2, `${num(pm)} ms`)
  const p99 = med(r.pickup['docket-postgres']?.p99s)
  check('PostgreSQL pickup p99 ≤ 5 ms', p99, (v) => v <= 5, `${num(p99)} ms`)
  for (const id of ['docket-sqlite', 'docket-postgres'] as const) {
    const rss = med(r.memoryMb[id])
    check(`Worker peak RSS ≤ 90 MB (${SYSTEM_LABELS[id]})`, rss, (v) => v <= 90, `${num(rss)} MB`)
  }
  return out
}

export function targetsTable(r: Results): string {
  const mark = (m: boolean | null) => (m === null ? 'not measured' : m ? 'met' : '**missed**')
  return table(
    ['target (issue 13)', 'this run', ''],
    targets(r).map((t) => [t.name, t.figure, mark(t.met)]),
  )
}

export function limitsTable(r: Results): string {
  const L = r.limits
  const head = table(
    ['what PostgreSQL and SQLite do at all', 'per second', ''],
    [
      ['PostgreSQL, pgbench, one single-row UPDATE per transaction, 1 client', spread(s(L.pg1)), 'commits'],
      ['PostgreSQL, pgbench, one single-row UPDATE per transaction, 8 clients', spread(s(L.pg8)), 'commits'],
      [
        'PostgreSQL, pgbench, one 100-row HOT UPDATE per transaction, 1 client',
        spread(s(L.hot100x1)),
        'rows',
      ],
      [
        'PostgreSQL, pgbench, one 100-row HOT UPDATE per transaction, 8 clients',
        spread(s(L.hot100x8)),
        'rows',
      ],
      [
        'PostgreSQL, pgbench, bare claim-100 / complete-100 cycle, not HOT, 1 client',
        spread(s(L.cycle100x1)),
        'jobs',
      ],
      [
        'PostgreSQL, pgbench, bare claim-100 / complete-100 cycle, not HOT, 2 clients',
        spread(s(L.cycle100x2)),
        'jobs',
      ],
      [
        'SQLite, better-sqlite3, WAL, synchronous NORMAL, one single-row UPDATE per transaction',
        spread(s(L.sqlite)),
        'commits',
      ],
    ],
  )
  const cycle = Math.max(med(L.cycle100x1), med(L.cycle100x2))
  const lite = med(L.sqlite)
  const rows = r.systems
    .filter((id) => backendOf(id) !== 'redis')
    .map((id) => {
      const best = Math.max(med(r.throughput[id]?.one), med(r.throughput[id]?.two))
      const pg = backendOf(id) === 'postgres'
      return [
        SYSTEM_LABELS[id],
        num(best),
        pg ? 'the bare claim/complete cycle (its better client count)' : 'SQLite single-row commits',
        num(best / (pg ? cycle : lite)),
      ]
    })
  const fraction = table(['system', 'best processing, jobs/s', 'against', 'fraction'], rows)
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
