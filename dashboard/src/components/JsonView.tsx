/** JSON, pretty-printed and coloured, with a copy button. */
import { useState } from 'preact/hooks'

const TOKEN = /("(?:\\.|[^"\\])*"(\s*:)?|\b(?:true|false|null)\b|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g

function highlight(text: string) {
  const parts: preact.JSX.Element[] = []
  let last = 0
  let i = 0
  for (const m of text.matchAll(TOKEN)) {
    const at = m.index ?? 0
    if (at > last) parts.push(<span key={i++}>{text.slice(last, at)}</span>)
    const token = m[0]
    const cls = m[2]
      ? 'json-key'
      : token.startsWith('"')
        ? 'json-string'
        : /true|false|null/.test(token)
          ? 'json-literal'
          : 'json-number'
    parts.push(
      <span key={i++} class={cls}>
        {token}
      </span>,
    )
    last = at + token.length
  }
  if (last < text.length) parts.push(<span key={i++}>{text.slice(last)}</span>)
  return parts
}

export function JsonView({ value, label }: { value: unknown; label: string }) {
  const [copied, setCopied] = useState(false)
  if (value === undefined || value === null) return <p class="muted">No {label.toLowerCase()}.</p>
  const text = JSON.stringify(value, null, 2)
  const copy = async () => {
    await navigator.clipboard?.writeText(text)
    setCopied(true)
    setTimeout(() => setCopied(false), 1500)
  }
  return (
    <div class="json">
      <button
        type="button"
        class="btn btn-plain btn-small json-copy"
        onClick={copy}
        aria-label={`Copy ${label}`}
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
      <pre>
        <code>{text.length > 200_000 ? text : highlight(text)}</code>
      </pre>
    </div>
  )
}
