/**
 * The code blocks of a Markdown file, as the README test runs them: every
 * fenced block with its language, its line, and the `readme-test` directive
 * in an HTML comment on the line just above its fence (docs/testing.md):
 *
 *   <!-- readme-test: skip (why it cannot run here) -->   not run; the reason is required
 *   <!-- readme-test: continues -->                       a TypeScript block that goes on from the one before
 */

export type Language = 'shell' | 'typescript' | 'other'

export interface Block {
  /** The fence's info string as written (`sh`, `ts`, ``). */
  info: string
  language: Language
  /** 1-based line of the opening fence. */
  line: number
  code: string
  skip: string | null
  continues: boolean
}

const SHELL = new Set(['sh', 'bash', 'shell', 'console', 'zsh'])
const TYPESCRIPT = new Set(['ts', 'typescript', 'tsx', 'mts'])
const DIRECTIVE = /^<!--\s*readme-test:\s*(.*?)\s*-->$/

function languageOf(info: string): Language {
  const word = info.split(/\s+/)[0]?.toLowerCase() ?? ''
  if (SHELL.has(word)) return 'shell'
  if (TYPESCRIPT.has(word)) return 'typescript'
  return 'other'
}

/** Reads the directive text after `readme-test:`; throws on one it does not know, so a typo cannot skip a block. */
function parseDirective(text: string, line: number): { skip: string | null; continues: boolean } {
  if (text === 'continues') return { skip: null, continues: true }
  const skip = text.match(/^skip\s*\((.+)\)$/)
  if (skip) return { skip: skip[1]!.trim(), continues: false }
  throw new Error(
    `line ${line}: unknown readme-test directive ${JSON.stringify(text)} (expected "skip (reason)" or "continues")`,
  )
}

export function codeBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n')
  const blocks: Block[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i]!.match(/^(`{3,}|~{3,})\s*(.*)$/)
    if (!open) continue
    const fence = open[1]!
    const info = open[2]!.trim()
    const body: string[] = []
    let j = i + 1
    while (j < lines.length && !lines[j]!.startsWith(fence)) body.push(lines[j++]!)
    const above = i > 0 ? lines[i - 1]!.trim().match(DIRECTIVE) : null
    const directive = above ? parseDirective(above[1]!, i) : { skip: null, continues: false }
    blocks.push({ info, language: languageOf(info), line: i + 1, code: body.join('\n'), ...directive })
    i = j
  }
  return blocks
}

/** Directives that are not on the line just above a fence: they would do nothing, silently. */
export function strayDirectives(markdown: string): number[] {
  const lines = markdown.split('\n')
  return lines.flatMap((line, i) =>
    DIRECTIVE.test(line.trim()) && !/^(`{3,}|~{3,})/.test(lines[i + 1] ?? '') ? [i + 1] : [],
  )
}

export interface Program {
  /** The line of its first block. */
  line: number
  code: string
}

/** The runnable TypeScript programs: each block not skipped, with the `continues` blocks after it appended. */
export function typescriptPrograms(blocks: Block[]): Program[] {
  const programs: Program[] = []
  for (const b of blocks.filter((b) => b.language === 'typescript' && b.skip === null)) {
    const last = programs.at(-1)
    if (b.continues) {
      if (!last) throw new Error(`line ${b.line}: "continues" but there is no TypeScript block before it`)
      last.code += `\n${b.code}`
    } else programs.push({ line: b.line, code: b.code })
  }
  return programs
}

/** What a shell block runs: `console` blocks run their `$ ` lines only (the rest is output). */
export function shellScript(block: Block): string {
  if (!block.info.startsWith('console')) return block.code
  return block.code
    .split('\n')
    .filter((l) => l.startsWith('$ '))
    .map((l) => l.slice(2))
    .join('\n')
}
