/**
 * The document analysis itself, as plain functions: extract text, classify
 * the document by rules, pull out fields, write a short summary, and render
 * the results as CSV. No network, no model download.
 *
 * unpdf is a devDependency of this repository, not a dependency of the
 * published package: copying the example into a project of your own, run
 * `npm install unpdf` there.
 */
import { extractText, getDocumentProxy } from 'unpdf'

export type DocumentType = 'invoice' | 'contract' | 'receipt' | 'letter' | 'unknown'

export interface Fields {
  dates: string[]
  amounts: { value: number; currency: string; text: string }[]
  total: number | null
  parties: string[]
  identifiers: string[]
}

export async function textOf(data: Buffer, mediaType: string): Promise<string> {
  if (mediaType === 'application/pdf') {
    const pdf = await getDocumentProxy(new Uint8Array(data))
    const { text } = await extractText(pdf, { mergePages: true })
    return text
  }
  return data.toString('utf8')
}

/** Words that mark each kind of document, with their weights. */
const SIGNALS: Record<Exclude<DocumentType, 'unknown'>, [RegExp, number][]> = {
  invoice: [
    [/\binvoice\b/i, 3],
    [/\bamount due\b|\bbalance due\b/i, 2],
    [/\bdue date\b|\bpayment terms\b/i, 1],
    [/\bbill to\b/i, 1],
  ],
  contract: [
    [/\bagreement\b|\bcontract\b/i, 3],
    [/\bparties\b|\bhereinafter\b/i, 2],
    [/\bterm\b|\btermination\b/i, 1],
    [/\bsignature\b|\bsigned\b/i, 1],
  ],
  receipt: [
    [/\breceipt\b/i, 3],
    [/\bpaid\b|\bcash\b|\bcard\b/i, 2],
    [/\bchange\b|\bsubtotal\b/i, 1],
    [/\bthank you\b/i, 1],
  ],
  letter: [
    [/^\s*dear\b/im, 3],
    [/\bsincerely\b|\bkind regards\b|\byours faithfully\b/i, 3],
    [/\bre:/i, 1],
  ],
}

export function classify(text: string): { type: DocumentType; confidence: number } {
  const scores = Object.entries(SIGNALS).map(([type, signals]) => ({
    type: type as DocumentType,
    score: signals.reduce((sum, [re, w]) => sum + (re.test(text) ? w : 0), 0),
  }))
  scores.sort((a, b) => b.score - a.score)
  const [best, second] = scores as [{ type: DocumentType; score: number }, { score: number }]
  if (best.score < 3) return { type: 'unknown', confidence: 0 }
  const confidence = Math.min(0.99, Math.round((0.5 + (best.score - second.score) / 14) * 100) / 100)
  return { type: best.type, confidence }
}

const MONTHS = 'January|February|March|April|May|June|July|August|September|October|November|December'
const DATE = new RegExp(
  `\\b(\\d{4}-\\d{2}-\\d{2}|\\d{1,2}/\\d{1,2}/\\d{4}|\\d{1,2} (?:${MONTHS}) \\d{4}|(?:${MONTHS}) \\d{1,2}, \\d{4})\\b`,
  'g',
)
const AMOUNT =
  /(?:(USD|EUR|GBP|\$|€|£)\s?(\d{1,3}(?:,\d{3})*(?:\.\d{2})?|\d+(?:\.\d{2})?))|(?:(\d{1,3}(?:,\d{3})*(?:\.\d{2}))\s?(USD|EUR|GBP))/g
const CURRENCY: Record<string, string> = { $: 'USD', '€': 'EUR', '£': 'GBP' }
const IDENTIFIER =
  /\b(?:Invoice|Contract|Receipt|Order|Ref(?:erence)?|No\.?|Number|Account)\s*(?:No\.?|Number|#)?\s*[:#]?\s*([A-Z]{1,5}-?\d[\w-]{2,})/gi
/** Organisations: capitalised words ending in a legal form (Ltd, Inc, GmbH…), on one line. */
const PARTY = /\b([A-Z][\w&'-]*(?:[ \t]+[A-Z][\w&'-]*){0,4}[ \t]+(?:Ltd|LLC|Inc|GmbH|Corp|Co|Limited|plc))\b/g

export function extractFields(text: string): Fields {
  const dates = [...new Set([...text.matchAll(DATE)].map((m) => m[1]!))]
  const amounts = [...text.matchAll(AMOUNT)].map((m) => {
    const raw = m[2] ?? m[3]!
    const currency = m[1] ? (CURRENCY[m[1]] ?? m[1]) : m[4]!
    return { value: Number(raw.replaceAll(',', '')), currency, text: m[0].trim() }
  })
  const totalLine =
    /\b(?:total|amount due|balance due|grand total)\b[^\n\d$€£]*([$€£]?\s?\d[\d,]*(?:\.\d{2})?)/i.exec(text)
  const total = totalLine
    ? Number(totalLine[1]!.replace(/[^\d.]/g, ''))
    : amounts.length > 0
      ? Math.max(...amounts.map((a) => a.value))
      : null
  const identifiers = [...new Set([...text.matchAll(IDENTIFIER)].map((m) => m[1]!))]
  const parties = [...new Set([...text.matchAll(PARTY)].map((m) => m[1]!.trim()))]
  return { dates, amounts, total, parties, identifiers }
}

export function summarise(text: string, type: DocumentType, fields: Fields): string {
  const firstSentence =
    text
      .replace(/\s+/g, ' ')
      .trim()
      .split(/(?<=[.!?])\s/)[0]
      ?.slice(0, 160) ?? ''
  const noun = type === 'unknown' ? 'document' : type
  const parts = [`${/^[aeiou]/.test(noun) ? 'An' : 'A'} ${noun}`]
  if (fields.parties.length > 0) parts.push(`involving ${fields.parties.slice(0, 3).join(', ')}`)
  if (fields.dates[0]) parts.push(`dated ${fields.dates[0]}`)
  if (fields.total !== null)
    parts.push(
      `for a total of ${fields.total.toFixed(2)}${fields.amounts[0] ? ` ${fields.amounts[0].currency}` : ''}`,
    )
  return `${parts.join(' ')}. ${firstSentence}`.trim()
}

export function toCsv(rows: [string, string][]): string {
  const cell = (v: string) => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v)
  return `field,value\n${rows.map(([k, v]) => `${cell(k)},${cell(v)}`).join('\n')}\n`
}
