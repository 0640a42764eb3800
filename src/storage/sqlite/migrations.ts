/**
 * SQLite schema, versioned and forward-only. Append a migration; never edit
 * one that has shipped. Times are epoch milliseconds, JSON is text.
 */
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
  name TEXT PRIMARY KEY,
  description TEXT,
  mode TEXT NOT NULL CHECK (mode IN ('automatic','manual')),
  status TEXT NOT NULL CHECK (status IN ('active','paused')),
  concurrency INTEGER CHECK (concurrency IS NULL OR concurrency > 0),
  ordering TEXT NOT NULL CHECK (ordering IN ('priority','fifo')),
  max_attempts INTEGER NOT NULL,
  backoff TEXT NOT NULL,
  timeout_ms INTEGER,
  retention_ms INTEGER,
  settings TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE batches (
  id TEXT PRIMARY KEY,
  name TEXT,
  owner TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL
);

CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  queue TEXT NOT NULL,
  type TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL,
  priority INTEGER NOT NULL,
  run_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  backoff TEXT NOT NULL,
  timeout_ms INTEGER,
  progress_percent REAL NOT NULL DEFAULT 0,
  progress_step TEXT,
  progress_message TEXT,
  worker_id TEXT,
  lease_token TEXT,
  locked_at INTEGER,
  lease_expires_at INTEGER,
  last_error TEXT,
  error_count INTEGER NOT NULL DEFAULT 0,
  result TEXT,
  owner TEXT,
  batch_id TEXT,
  capabilities TEXT,
  dedupe_key TEXT,
  pending_deps INTEGER NOT NULL DEFAULT 0,
  has_dependents INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  estimated_duration_ms INTEGER,
  duration_ms INTEGER
);
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
  job_id TEXT NOT NULL,
  depends_on TEXT NOT NULL,
  PRIMARY KEY (job_id, depends_on)
);
CREATE INDEX job_dependencies_upstream ON job_dependencies (depends_on);

-- Everything that happens, in one log: a job's history (job_id set), queue and
-- worker events (job_id NULL). SQLite has one writer at a time, so ids commit
-- in order and the event feed reads by id.
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT,
  queue TEXT,
  worker_id TEXT,
  kind TEXT NOT NULL,
  status TEXT,
  step TEXT,
  percent REAL,
  message TEXT,
  data TEXT,
  at INTEGER NOT NULL
);
CREATE INDEX events_job ON events (job_id, id) WHERE job_id IS NOT NULL;

CREATE TABLE workers (
  id TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  pid INTEGER,
  kind TEXT NOT NULL DEFAULT 'cpu',
  capabilities TEXT NOT NULL DEFAULT '[]',
  queues TEXT NOT NULL DEFAULT '[]',
  concurrency INTEGER NOT NULL,
  load INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'up',
  started_at INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL
);

CREATE TABLE artifacts (
  id TEXT PRIMARY KEY,
  job_id TEXT NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('input','output')),
  name TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  storage_key TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX artifacts_job ON artifacts (job_id);

CREATE TABLE principals (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('admin','user','worker')),
  created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  principal_id TEXT NOT NULL REFERENCES principals(id),
  prefix TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
);

CREATE TABLE leader_leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'dashboard sessions',
    sql: `
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  key_id TEXT NOT NULL REFERENCES api_keys(id),
  csrf_token TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_key ON sessions (key_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);
`,
  },
]
