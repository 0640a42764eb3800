/** The types of the library's public API, beside the Docket class itself. */
import type { Readable } from 'node:stream'
import type { Clock } from '../core/clock.js'
import type { MatchCount } from '../core/job-search.js'
import type { JobInput, SqliteDatabase } from '../core/options.js'
import { checkDelay } from '../core/snooze.js'
import type { WindowStats } from '../core/stats.js'
import type { ClaimedJob, Job, LeaseRef, StatusCounts } from '../core/types.js'

export interface FileInput {
  /** The original file name; kept as metadata only. */
  name: string
  mediaType: string
  data: Buffer | string | Readable
}

export interface DocketOptions {
  /**
   * Where new artifact files go: 'database' (PostgreSQL's default: every server
   * on the database serves them), 'local' (SQLite's default: `artifactsDir`), or
   * 's3://bucket/prefix' (an S3-compatible bucket; credentials, region and
   * endpoint from the AWS environment, or `?endpoint=…&region=…`). Files stored
   * before stay readable where they are.
   */
  artifacts?: 'database' | 'local' | `s3://${string}`
  /** The local directory for artifact files. Default: `artifacts/` beside a SQLite file, else ./data/artifacts. */
  artifactsDir?: string
  /**
   * PostgreSQL behind a transaction-mode pooler (PgBouncer): a URL straight to
   * the server, for what needs a session of its own (LISTEN, the migrations'
   * advisory lock). Default: the main URL. See docs/operations.md.
   */
  directUrl?: string
  /** Largest artifact, in bytes. Default 25 MiB. */
  maxArtifactBytes?: number
  /**
   * Largest payload or result, in bytes of JSON. Default 1 MiB. On PostgreSQL,
   * given here it is also recorded in the database for the `add_job` SQL
   * function (docs/transactions.md).
   */
  maxPayloadBytes?: number
  /** Lease given to claimed jobs when the claim does not say. Default 30 s. */
  defaultLeaseMs?: number
  /**
   * For tests: the clock every time comes from (leases, run-at, backoff,
   * heartbeats, expiry), usually a `TestClock` moved with `advance(ms)`. By
   * default SQLite uses the process's clock and PostgreSQL the database's.
   */
  clock?: Clock
  /**
   * SQLite: your application's own better-sqlite3 Database, instead of a
   * URL (`Docket.open({ database: db })`). Docket's writes then join the
   * transactions you open on it, so a job commits or rolls back with your
   * own rows; close() leaves the handle open. Docket turns on WAL, foreign
   * keys and a busy timeout on it. See docs/transactions.md.
   */
  database?: SqliteDatabase
  /**
   * Whether opening may change the schema (default true: pending migrations
   * and changed functions are applied). With false, opening only checks, and
   * a schema that is behind is refused with SCHEMA_OLDER: run `docket
   * migrate` first (docs/operations.md, rolling upgrades). A schema newer
   * than this code is refused with SCHEMA_NEWER either way.
   */
  migrate?: boolean
  /**
   * How long one job list (or count) with `search` or `where` may run before
   * it is stopped and refused (INVALID_ARGUMENT, `search`/`where`: narrow it).
   * Default 2 s on SQLite, whose statements run on the event loop's thread,
   * so that one search never holds up everything else for long; 10 s on
   * PostgreSQL (its statement_timeout). See docs/search.md.
   */
  searchTimeoutMs?: number
}

export type JobOptions = Omit<JobInput, 'queue' | 'type' | 'payload'>

export interface JobPage {
  jobs: Job[]
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null
  /** Every job the filter matches, on all pages; only when the list was asked to `count`. */
  count?: MatchCount
}

/** A handle on a leased job: a claimed job itself, or its id and lease token. */
export type Leased = LeaseRef | ClaimedJob

export interface FailureInput {
  message: string
  name?: string
  stack?: string
  /** Any JSON, kept with the attempt (attemptHistory), not in lastError. */
  data?: unknown
}

/** Throw this (or pass `retryable: false` to fail) to fail a job for good, without further attempts. */
export class UnrecoverableError extends Error {
  override readonly name = 'UnrecoverableError'
}

/**
 * Throw this from a handler to retry after `retryInMs` instead of the job's
 * backoff: an upstream answered 429 with Retry-After, say. The attempt counts;
 * with none left the job fails as it would anyway.
 */
export class RetryAfterError extends Error {
  override readonly name = 'RetryAfterError'
  readonly retryInMs: number
  constructor(retryInMs: number, message = `retry in ${retryInMs} ms`) {
    super(message)
    this.retryInMs = checkDelay(retryInMs, 'retryInMs')
  }
}

export const DEFAULT_LEASE_MS = 30_000

export interface DocketStats {
  queue: string | null
  counts: StatusCounts
  lastHour: WindowStats
  lastDay: WindowStats
}
