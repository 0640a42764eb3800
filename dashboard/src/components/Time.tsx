/** A point in time shown relative to now ("12 s ago"), with the full date on hover and for screen readers. */
import { ago, dateTime } from '../lib/format.js'
import { useNow } from '../lib/use-api.js'

export function Ago({ iso }: { iso: string | null | undefined }) {
  const now = useNow(1000)
  if (!iso) return <span>—</span>
  return (
    <time dateTime={iso} title={dateTime(iso)}>
      {ago(iso, now)}
    </time>
  )
}
