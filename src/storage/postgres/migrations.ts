/**
 * PostgreSQL schema, versioned and forward-only, created inside Docket's own
 * schema (`docket` unless the URL says `?schema=`). Append a migration; never
 * edit one that has shipped. Times are timestamptz(3): millisecond precision,
 * so keyset cursors built from JavaScript Dates compare exactly.
 */
import { CLAIM_FUNCTION, COMPLETE_FUNCTION, UNBLOCK_FUNCTION } from './functions.js'

export interface Migration {
  version: number
  name: string
  sql: string
}

const LIVE = `('waiting','scheduled','blocked','held','active')`

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE queues (
  name text PRIMARY KEY,
  description text,
  mode text NOT NULL CHECK (mode IN ('automatic','manual')),
  status text NOT NULL CHECK (status IN ('active','paused')),
  concurrency integer CHECK (concurrency IS NULL OR concurrency > 0),
  ordering text NOT NULL CHECK (ordering IN ('priority','fifo')),
  max_attempts integer NOT NULL,
  backoff jsonb NOT NULL,
  timeout_ms bigint,
  retention_ms bigint,
  settings jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE batches (
  id text PRIMARY KEY,
  name text,
  owner text,
  metadata jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE jobs (
  id uuid PRIMARY KEY,
  queue text NOT NULL,
  type text NOT NULL,
  payload jsonb NOT NULL,
  status text NOT NULL,
  priority integer NOT NULL,
  run_at timestamptz(3) NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL,
  backoff jsonb NOT NULL,
  timeout_ms bigint,
  progress_percent real NOT NULL DEFAULT 0,
  progress_step text,
  progress_message text,
  worker_id text,
  lease_token uuid,
  locked_at timestamptz(3),
  lease_expires_at timestamptz(3),
  last_error jsonb,
  error_count integer NOT NULL DEFAULT 0,
  result jsonb,
  owner text,
  batch_id text,
  capabilities text[],
  dedupe_key text,
  pending_deps integer NOT NULL DEFAULT 0,
  has_dependents boolean NOT NULL DEFAULT false,
  created_at timestamptz(3) NOT NULL,
  started_at timestamptz(3),
  finished_at timestamptz(3),
  estimated_duration_ms bigint,
  duration_ms bigint
) WITH (fillfactor = 85);
-- The claim: ready jobs of one queue in priority order, or in FIFO order.
CREATE INDEX jobs_claim_priority ON jobs (queue, priority DESC, run_at, id) WHERE status IN ('waiting','scheduled');
CREATE INDEX jobs_claim_fifo ON jobs (queue, run_at, id) WHERE status IN ('waiting','scheduled');
-- Concurrency limits count active jobs per queue; lease recovery scans by expiry.
CREATE INDEX jobs_active ON jobs (queue, lease_expires_at) WHERE status = 'active';
CREATE UNIQUE INDEX jobs_dedupe ON jobs (queue, dedupe_key) WHERE dedupe_key IS NOT NULL AND status IN ${LIVE};
-- Listing. Every index here is paid for on every claim and completion (status
-- changes defeat HOT updates), so there are few: queue+status pages, global
-- pages, and the sparse owner and batch columns.
CREATE INDEX jobs_queue_status_created ON jobs (queue, status, created_at, id);
CREATE INDEX jobs_created ON jobs (created_at, id);
CREATE INDEX jobs_owner_created ON jobs (owner, created_at, id) WHERE owner IS NOT NULL;
CREATE INDEX jobs_batch ON jobs (batch_id, status) WHERE batch_id IS NOT NULL;
-- Retention.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE job_dependencies (
  job_id uuid NOT NULL,
  depends_on uuid NOT NULL,
  PRIMARY KEY (job_id, depends_on)
);
CREATE INDEX job_dependencies_upstream ON job_dependencies (depends_on);

-- Everything that happens, in one log: a job's history (job_id set), queue and
-- worker events (job_id NULL). The event feed reads it in commit order: tx is
-- the writing transaction, and a reader only takes events of transactions
-- older than every transaction still running, ordered by (tx, id), so no
-- event can commit behind its cursor.
CREATE TABLE events (
  id bigserial PRIMARY KEY,
  tx xid8 NOT NULL DEFAULT pg_current_xact_id(),
  job_id uuid,
  queue text,
  worker_id text,
  kind text NOT NULL,
  status text,
  step text,
  percent real,
  message text,
  data jsonb,
  at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX events_job ON events (job_id, id) WHERE job_id IS NOT NULL;
CREATE INDEX events_feed ON events (tx, id);

CREATE TABLE workers (
  id text PRIMARY KEY,
  host text NOT NULL,
  pid integer,
  kind text NOT NULL DEFAULT 'cpu',
  capabilities text[] NOT NULL DEFAULT '{}',
  queues text[] NOT NULL DEFAULT '{}',
  concurrency integer NOT NULL,
  load integer NOT NULL DEFAULT 0,
  status text NOT NULL DEFAULT 'up',
  started_at timestamptz(3) NOT NULL DEFAULT now(),
  heartbeat_at timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE artifacts (
  id uuid PRIMARY KEY,
  job_id uuid NOT NULL,
  direction text NOT NULL CHECK (direction IN ('input','output')),
  name text NOT NULL,
  media_type text NOT NULL,
  size bigint NOT NULL,
  sha256 text NOT NULL,
  storage_key text NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX artifacts_job ON artifacts (job_id);

CREATE TABLE principals (
  id text PRIMARY KEY,
  name text NOT NULL UNIQUE,
  role text NOT NULL CHECK (role IN ('admin','user','worker')),
  created_at timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id text PRIMARY KEY,
  principal_id text NOT NULL REFERENCES principals(id),
  prefix text NOT NULL,
  hash text NOT NULL UNIQUE,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  last_used_at timestamptz(3),
  revoked_at timestamptz(3)
);

${UNBLOCK_FUNCTION}
${CLAIM_FUNCTION}
${COMPLETE_FUNCTION}
`,
  },
  {
    version: 2,
    name: 'dashboard sessions',
    sql: `
CREATE TABLE sessions (
  id_hash text PRIMARY KEY,
  key_id text NOT NULL REFERENCES api_keys(id),
  csrf_token text NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  expires_at timestamptz(3) NOT NULL
);
CREATE INDEX sessions_key ON sessions (key_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);
`,
  },
]
