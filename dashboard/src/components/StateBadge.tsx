/** A job's state as a coloured label (the colour repeats the word, it never replaces it). */
import type { JobStatus } from '../api/types.js'

export function StateBadge({ status }: { status: JobStatus }) {
  return <span class={`badge state-${status}`}>{status}</span>
}

export function Badge({
  children,
  tone = 'neutral',
}: {
  children: string
  tone?: 'neutral' | 'warn' | 'bad' | 'good'
}) {
  return <span class={`badge tone-${tone}`}>{children}</span>
}
