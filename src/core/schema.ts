/**
 * Whether this code may use a database's schema as it finds it, and what
 * migrating would do. The drivers read what the database has recorded
 * (applied migration versions; on PostgreSQL, each living function's sha256
 * and the Docket version that wrote it) and this decides; the drivers then
 * apply the plan or refuse with the error decided here.
 *
 * - A database with a migration this code does not know was migrated by newer
 *   code: SCHEMA_NEWER, always. Its tables may carry rules (rate limits,
 *   group limits, expiry) this code would ignore.
 * - A database missing migrations or functions this code has is older:
 *   migrating brings it up to date; with `migrate: false` it is SCHEMA_OLDER.
 * - A living function last written by a newer Docket is left as it is: the
 *   rolling-upgrade rule (docs/operations.md) is that a release's functions
 *   keep serving the release before it, so an older process restarting in
 *   the middle of an upgrade must not put its older text back.
 */
import { DocketError } from './errors.js'

export interface KnownMigration {
  version: number
  name: string
}

export interface KnownFunction {
  name: string
  sha256: string
}

/** What the code carries. */
export interface CodeSchema {
  migrations: readonly KnownMigration[]
  functions: readonly KnownFunction[]
  /** This package's version: recorded beside each function it writes. */
  docketVersion: string
}

export interface RecordedFunction {
  name: string
  sha256: string
  docketVersion: string
}

/** What the database has recorded. */
export interface DatabaseSchema {
  appliedVersions: readonly number[]
  functions: readonly RecordedFunction[]
}

export type FunctionState = 'current' | 'stale' | 'missing' | 'newer'

export interface SchemaPlan {
  /** The newest version the database has applied (0: none). */
  databaseVersion: number
  /** Versions the database has and this code does not know. */
  unknownVersions: number[]
  /** Migrations this code has and the database has not applied, in order. */
  pending: KnownMigration[]
  /** Each of this code's functions and how the database's copy compares. */
  functions: { name: string; state: FunctionState; recordedBy: string | null }[]
}

export function planSchema(code: CodeSchema, db: DatabaseSchema): SchemaPlan {
  const known = new Set(code.migrations.map((m) => m.version))
  const applied = new Set(db.appliedVersions)
  const recorded = new Map(db.functions.map((f) => [f.name, f]))
  return {
    databaseVersion: Math.max(0, ...applied),
    unknownVersions: [...applied].filter((v) => !known.has(v)).sort((a, b) => a - b),
    pending: code.migrations.filter((m) => !applied.has(m.version)),
    functions: code.functions.map((f) => {
      const r = recorded.get(f.name)
      return {
        name: f.name,
        state: functionState(f, r, code.docketVersion),
        recordedBy: r?.docketVersion ?? null,
      }
    }),
  }
}

function functionState(f: KnownFunction, r: RecordedFunction | undefined, version: string): FunctionState {
  if (r === undefined) return 'missing'
  if (r.sha256 === f.sha256) return 'current'
  return compareVersions(r.docketVersion, version) > 0 ? 'newer' : 'stale'
}

/** The functions migrating would write: missing or stale, never those a newer Docket wrote. */
export function functionsToApply(plan: SchemaPlan): string[] {
  return plan.functions.filter((f) => f.state === 'missing' || f.state === 'stale').map((f) => f.name)
}

export function isUpToDate(plan: SchemaPlan): boolean {
  return plan.unknownVersions.length === 0 && plan.pending.length === 0 && functionsToApply(plan).length === 0
}

/**
 * The error that stops this code from using the database, or null. With
 * `migrate` the code may bring an older schema up to date itself, so only a
 * newer one is refused.
 */
export function schemaRefusal(plan: SchemaPlan, code: CodeSchema, migrate: boolean): DocketError | null {
  const codeVersion = latestVersion(code)
  if (plan.unknownVersions.length > 0) {
    const newest = Math.max(...plan.unknownVersions)
    return new DocketError(
      'SCHEMA_NEWER',
      `the database schema is at migration ${newest}, newer than this Docket ${code.docketVersion} knows ` +
        `(it knows up to ${codeVersion}): a newer Docket migrated it. Upgrade this process to that ` +
        'version or later; never run older code against a newer schema.',
      { databaseVersion: newest, codeVersion, unknownVersions: plan.unknownVersions },
    )
  }
  if (migrate) return null
  const stale = functionsToApply(plan)
  if (plan.pending.length === 0 && stale.length === 0) return null
  const first = plan.pending[0]
  const behind = [
    first ? `${plan.pending.length} migration(s) pending (${first.version}…${codeVersion})` : '',
    stale.length > 0 ? `function(s) out of date: ${stale.join(', ')}` : '',
  ].filter(Boolean)
  return new DocketError(
    'SCHEMA_OLDER',
    `the database schema is older than this Docket ${code.docketVersion} (${behind.join('; ')}) and migrate is ` +
      'false: run `docket migrate` (or open once without migrate: false), then start again.',
    {
      databaseVersion: plan.databaseVersion,
      codeVersion,
      pending: plan.pending.map((m) => m.version),
      staleFunctions: stale,
    },
  )
}

/** The newest migration this code knows (0: none). */
export const latestVersion = (code: CodeSchema): number =>
  Math.max(0, ...code.migrations.map((m) => m.version))

/** Compares two `major.minor.patch` versions numerically (a pre-release tag is ignored). */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => (v.split('-')[0] ?? '').split('.').map((n) => Number.parseInt(n, 10) || 0)
  const [x, y] = [parts(a), parts(b)]
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}
