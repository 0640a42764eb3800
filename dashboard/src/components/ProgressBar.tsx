/** Progress as a bar, with the current step and message when there are any. */
interface Props {
  percent: number
  step?: string | null
  message?: string | null
  status?: string
  compact?: boolean
}

export function ProgressBar({ percent, step, message, status, compact }: Props) {
  const value = Math.max(0, Math.min(100, Math.round(percent)))
  const label = [step, message].filter(Boolean).join(' — ')
  return (
    <div class={`progress${compact ? ' progress-compact' : ''}`}>
      <div
        class={`progress-track${status ? ` progress-${status}` : ''}`}
        role="progressbar"
        aria-label={label ? `Progress: ${label}` : 'Progress'}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={value}
        aria-valuetext={`${value}%${label ? ` ${label}` : ''}`}
      >
        <div class="progress-fill" style={{ width: `${value}%` }} />
      </div>
      <span class="progress-text">
        <span class="progress-percent">{value}%</span>
        {label && !compact ? <span class="progress-label"> {label}</span> : null}
      </span>
    </div>
  )
}
