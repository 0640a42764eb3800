/**
 * Time-series charts drawn with uPlot (small and fast): a full chart with
 * axes and a legend, and a sparkline for tables. The colours follow the
 * page's light or dark theme.
 */
import { useEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { THEME_CHANGED } from '../lib/theme.js'

export interface Line {
  label: string
  values: (number | null)[]
  /** A CSS colour or a custom property such as var(--ok). */
  color: string
  /** Draw as bars rather than a line. */
  bars?: boolean
}

interface Props {
  /** Bucket start times, epoch ms. */
  times: number[]
  lines: Line[]
  /** What the chart shows, for screen readers. */
  label: string
  height?: number
  /** Formats values on the y axis and in the legend. */
  format?: (v: number) => string
  sparkline?: boolean
}

/**
 * A colour as the canvas takes it (#rrggbb): the stylesheet's colours are
 * light-dark() pairs, which only an element's computed style resolves.
 */
function cssColor(color: string, el: HTMLElement): string {
  const probe = document.createElement('span')
  probe.style.color = color
  el.appendChild(probe)
  const computed = getComputedStyle(probe).color
  probe.remove()
  const rgb = /rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(computed)
  if (!rgb) return '#888888'
  return `#${rgb
    .slice(1, 4)
    .map((n) => Number(n).toString(16).padStart(2, '0'))
    .join('')}`
}

/** Bars of two series sit side by side in each bucket: the first left of its centre, the second right. */
const barPaths = [
  uPlot.paths.bars?.({ size: [0.4, 14], align: -1 }),
  uPlot.paths.bars?.({ size: [0.4, 14], align: 1 }),
]

function options(p: Props, el: HTMLElement, width: number): uPlot.Options {
  const muted = cssColor('var(--fg-muted)', el)
  const grid = cssColor('var(--border)', el)
  const fmt = p.format ?? ((v: number) => String(Math.round(v * 100) / 100))
  const series: uPlot.Series[] = [
    {},
    ...p.lines.map(
      (l, i): uPlot.Series => ({
        label: l.label,
        stroke: cssColor(l.color, el),
        fill: l.bars ? cssColor(l.color, el) : `${cssColor(l.color, el)}22`,
        width: p.sparkline ? 1.5 : 2,
        paths: l.bars ? barPaths[i % 2] : undefined,
        points: { show: !p.sparkline && !l.bars, size: 5 },
        value: (_u, v) => (v === null || v === undefined ? '—' : fmt(v)),
      }),
    ),
  ]
  if (p.sparkline) {
    return {
      width,
      height: p.height ?? 28,
      series,
      legend: { show: false },
      cursor: { show: false },
      select: { show: false, left: 0, top: 0, width: 0, height: 0 },
      axes: [{ show: false }, { show: false }],
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      padding: [2, 0, 2, 0],
    }
  }
  const axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } }
  return {
    width,
    height: p.height ?? 200,
    series,
    axes: [axis, { ...axis, values: (_u, ticks) => ticks.map(fmt), size: 56 }],
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
    cursor: { drag: { x: false, y: false } },
  }
}

export function Chart(props: Props) {
  const box = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)
  const data: uPlot.AlignedData = [props.times.map((t) => t / 1000), ...props.lines.map((l) => l.values)]
  const shape = `${props.sparkline}|${props.lines.map((l) => `${l.label}:${l.color}:${l.bars}`).join(',')}`

  useEffect(() => {
    const el = box.current
    if (!el) return
    const u = new uPlot(options(props, el, Math.max(60, el.clientWidth)), data, el)
    plot.current = u
    const resize = new ResizeObserver(() => {
      const w = Math.max(60, el.clientWidth)
      if (w !== u.width) u.setSize({ width: w, height: u.height })
    })
    resize.observe(el)
    const scheme = matchMedia('(prefers-color-scheme: dark)')
    const rebuild = () => {
      plot.current?.destroy()
      plot.current = new uPlot(options(props, el, Math.max(60, el.clientWidth)), data, el)
    }
    scheme.addEventListener('change', rebuild)
    window.addEventListener(THEME_CHANGED, rebuild)
    return () => {
      resize.disconnect()
      scheme.removeEventListener('change', rebuild)
      window.removeEventListener(THEME_CHANGED, rebuild)
      plot.current?.destroy()
      plot.current = null
    }
  }, [shape])

  useEffect(() => {
    plot.current?.setData(data)
  })

  return (
    <div
      ref={box}
      class={props.sparkline ? 'chart chart-spark' : 'chart'}
      role="img"
      aria-label={props.label}
    />
  )
}

/** Sums of each line, for a chart's text label. */
export const total = (values: (number | null)[]) => values.reduce<number>((a, v) => a + (v ?? 0), 0)
