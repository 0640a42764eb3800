/**
 * The chart in docs/images/benchmarks.png: an SVG drawn here by hand (six
 * panels of horizontal bars: the median, and a whisker from min to max),
 * rendered to PNG by @resvg/resvg-js from bench/peers, so no browser is needed.
 * Each system's best-settings row is labelled "best"; the tables say what
 * that setting is.
 */
import { importPeer } from '../lib/peers.js'
import type { Results } from '../lib/results.js'
import { num, type Summary, summarize } from '../lib/stats.js'
import { backendOf, isDocket, KIND_LABELS, ROWS } from '../systems/index.js'
import type { SystemId } from '../systems/types.js'
import { costs } from './tables.js'

interface Series {
  name: string
  color: string
}
interface Panel {
  title: string
  /** Values on a log scale (latencies that span three orders of magnitude). */
  log: boolean
  series: Series[]
  rows: { label: string; docket: boolean; values: (Summary | undefined)[] }[]
}

const FONT = "font-family='DejaVu Sans, Liberation Sans, Arial, sans-serif'"
const W = 560
const LABEL_W = 190
const ROW_GAP = 10
const BAR_H = 11
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')

function niceMax(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v))
  return ([1, 2, 2.5, 5, 10].find((m) => m * p >= v) ?? 10) * p
}

function panelSvg(panel: Panel, x0: number, y0: number): { svg: string; height: number } {
  const plotW = W - LABEL_W - 70
  const all = panel.rows.flatMap((r) => r.values.flatMap((v) => (v ? [v.max] : [])))
  const maxV = niceMax(Math.max(...all, 1e-9))
  const minLog = 0.1
  const scale = (v: number) =>
    panel.log
      ? (Math.log10(Math.max(v, minLog) / minLog) / Math.log10(maxV / minLog)) * plotW
      : (v / maxV) * plotW
  const ticks = panel.log
    ? [0.1, 1, 10, 100, 1000, 10_000, 100_000, 1_000_000].filter((t) => t <= maxV)
    : [0, 0.25, 0.5, 0.75, 1].map((f) => f * maxV)
  const rowH = panel.series.length * (BAR_H + 2) + ROW_GAP
  const top = y0 + 44
  const height = 44 + panel.rows.length * rowH + 28
  const out: string[] = [
    `<text x='${x0}' y='${y0 + 16}' font-size='15' font-weight='bold' ${FONT}>${esc(panel.title)}</text>`,
  ]
  panel.series.forEach((s, i) => {
    const lx = x0 + LABEL_W + i * 130
    out.push(`<rect x='${lx}' y='${y0 + 26}' width='10' height='10' fill='${s.color}'/>`)
    out.push(`<text x='${lx + 14}' y='${y0 + 35}' font-size='11' ${FONT}>${esc(s.name)}</text>`)
  })
  const bottom = top + panel.rows.length * rowH
  for (const t of ticks) {
    const x = x0 + LABEL_W + scale(t)
    out.push(`<line x1='${x}' y1='${top - 4}' x2='${x}' y2='${bottom}' stroke='#ddd'/>`)
    out.push(`<text x='${x}' y='${bottom + 14}' font-size='10' text-anchor='middle' ${FONT}>${num(t)}</text>`)
  }
  panel.rows.forEach((row, r) => {
    const y = top + r * rowH
    const weight = row.docket ? " font-weight='bold'" : ''
    const mid = y + (panel.series.length * (BAR_H + 2)) / 2 + 4
    out.push(
      `<text x='${x0 + LABEL_W - 8}' y='${mid}' font-size='12' text-anchor='end'${weight} ${FONT}>${esc(row.label)}</text>`,
    )
    row.values.forEach((v, i) => {
      const by = y + i * (BAR_H + 2)
      if (!v) {
        out.push(
          `<text x='${x0 + LABEL_W + 4}' y='${by + BAR_H - 1}' font-size='10' fill='#888' ${FONT}>n/a</text>`,
        )
        return
      }
      const bx = x0 + LABEL_W
      out.push(
        `<rect x='${bx}' y='${by}' width='${Math.max(1, scale(v.median))}' height='${BAR_H}' fill='${panel.series[i]!.color}'/>`,
      )
      if (v.n > 1) {
        const wy = by + BAR_H / 2
        out.push(
          `<line x1='${bx + scale(v.min)}' y1='${wy}' x2='${bx + scale(v.max)}' y2='${wy}' stroke='#222' stroke-width='1'/>`,
        )
      }
      out.push(
        `<text x='${bx + scale(Math.max(v.median, v.max)) + 4}' y='${by + BAR_H - 1}' font-size='10' ${FONT}>${num(v.median)}</text>`,
      )
    })
  })
  return { svg: out.join('\n'), height }
}

const chartLabel = (id: SystemId) => `${KIND_LABELS[ROWS[id].kind]}${ROWS[id].best ? ', best' : ''}`

export function chartSvg(results: Results): string {
  const all = () => true
  const common = (id: SystemId) => !ROWS[id].best
  const rows = (pick: (id: SystemId) => (Summary | undefined)[], keep: (id: SystemId) => boolean = all) =>
    results.systems.filter(keep).map((id) => ({
      label: chartLabel(id),
      docket: isDocket(id),
      values: pick(id),
    }))
  const s = (v: number[] | undefined) => (v && v.length > 0 ? summarize(v) : undefined)
  const panels: Panel[] = [
    {
      title: `Processing ${num(Number(results.settings.jobs))} no-op jobs (jobs/s, higher is better)`,
      log: false,
      series: [
        { name: '1 worker process', color: '#4e79a7' },
        { name: '2 worker processes', color: '#a0cbe8' },
      ],
      rows: rows((id) => [s(results.throughput[id]?.one), s(results.throughput[id]?.two)]),
    },
    {
      title: 'Pickup latency, enqueue → handler (ms, log scale, lower is better)',
      log: true,
      series: [
        { name: 'median', color: '#f28e2b' },
        { name: 'p99', color: '#ffbe7d' },
      ],
      rows: rows((id) => [s(results.pickup[id]?.medians), s(results.pickup[id]?.p99s)], common),
    },
    {
      title: `Bulk add of ${num(Number(results.settings.jobs))} jobs (jobs/s, higher is better)`,
      log: false,
      series: [{ name: 'one bulk call', color: '#59a14f' }],
      rows: rows((id) => [s(results.bulkAdd[id])], common),
    },
    {
      title: 'Peak RSS of a worker process (MB, lower is better)',
      log: false,
      series: [{ name: 'one-process runs', color: '#b07aa1' }],
      rows: rows((id) => [s(results.memoryMb[id])]),
    },
    {
      title: 'CPU per job, 1 worker process (µs, log scale, lower is better)',
      log: true,
      series: [
        { name: 'database server', color: '#e15759' },
        { name: 'worker process', color: '#ff9d9a' },
      ],
      rows: rows(
        (id) => [s(costs(results, id, 'one', 'serverCpuUs')), s(costs(results, id, 'one', 'workerCpuUs'))],
        (id) => backendOf(id) !== 'sqlite',
      ),
    },
    {
      title: 'PostgreSQL WAL per job (bytes, log scale, lower is better)',
      log: true,
      series: [{ name: 'pg_current_wal_lsn() difference', color: '#76b7b2' }],
      rows: rows(
        (id) => [s(costs(results, id, 'one', 'walBytes'))],
        (id) => backendOf(id) === 'postgres',
      ),
    },
  ]
  const drawn = panels.map((p, i) => panelSvg(p, 20 + (i % 2) * (W + 20), 0))
  // Panels go two by two; each pair of panels is as tall as the taller one.
  const rowHeights: number[] = []
  for (let i = 0; i < drawn.length; i += 2) {
    rowHeights.push(Math.max(drawn[i]!.height, drawn[i + 1]?.height ?? 0))
  }
  const offset = (pair: number) => 50 + rowHeights.slice(0, pair).reduce((a, b) => a + b, 0)
  const width = 2 * W + 60
  const height = offset(rowHeights.length) + 30
  const body = drawn
    .map((d, i) => `<g transform='translate(0, ${offset(Math.floor(i / 2))})'>${d.svg}</g>`)
    .join('\n')
  const m = results.machine
  const subtitle = `${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}, PostgreSQL ${m.postgres.split(' ')[0]}, ${results.startedAt.slice(0, 10)}. Bars: median of ${results.settings.reps} repetitions; whiskers: min–max. "best": the system at its best documented setting.`
  return `<svg xmlns='http://www.w3.org/2000/svg' width='${width}' height='${height}' viewBox='0 0 ${width} ${height}'>
<rect width='100%' height='100%' fill='white'/>
<text x='20' y='24' font-size='18' font-weight='bold' ${FONT}>Docket and its peers, one run of npm run bench</text>
<text x='20' y='42' font-size='11' fill='#444' ${FONT}>${esc(subtitle)}</text>
${body}
</svg>`
}

interface Resvg {
  Resvg: new (
    svg: string,
    options: {
      fitTo: { mode: 'zoom'; value: number }
      font: { loadSystemFonts: boolean; defaultFontFamily: string }
    },
  ) => { render(): { asPng(): Buffer } }
}

export async function chartPng(svg: string): Promise<Buffer> {
  const { Resvg } = await importPeer<Resvg>('@resvg/resvg-js')
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: 1.5 },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  })
  return resvg.render().asPng()
}
