
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
CREATE UNIQUE INDEX jobs_dedupe ON jobs (queue, dedupe_key) WHERE dedupe_key IS NOT NULL AND status IN ('waiting','scheduled','blocked','held','active');
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


CREATE FUNCTION unblock_dependents(p_parents uuid[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  n int;
BEGIN
  WITH counts AS (
    SELECT d.job_id, count(*)::int AS n FROM job_dependencies d WHERE d.depends_on = ANY(p_parents) GROUP BY d.job_id
  ), moved AS (
    UPDATE jobs j SET
      pending_deps = j.pending_deps - c.n,
      status = CASE
        WHEN j.pending_deps - c.n > 0 THEN 'blocked'
        WHEN q.mode = 'manual' THEN 'held'
        WHEN j.run_at > now() THEN 'scheduled'
        ELSE 'waiting' END
    FROM counts c, queues q
    WHERE j.id = c.job_id AND q.name = j.queue AND j.status = 'blocked'
    RETURNING j.id, j.queue, j.status
  )
  , ev AS (
    INSERT INTO events (job_id, queue, kind, status)
    SELECT id, queue, 'state', status FROM moved WHERE status <> 'blocked'
  )
  SELECT count(pg_notify('docket_ready_' || current_schema(), queue)) INTO n
  FROM (SELECT DISTINCT queue FROM moved WHERE status = 'waiting') ready;
END $$;


CREATE FUNCTION claim_jobs(p_worker text, p_queues text[], p_caps text[], p_limit int, p_lease_ms int)
RETURNS SETOF jobs LANGUAGE plpgsql AS $$
DECLARE
  q record;
  room int := p_limit;
  take int;
  n int;
BEGIN
  FOR q IN
    SELECT name, concurrency, ordering FROM queues
    WHERE name = ANY(p_queues) AND status = 'active'
    ORDER BY array_position(p_queues, name)
  LOOP
    EXIT WHEN room <= 0;
    take := room;
    IF q.concurrency IS NOT NULL THEN
      -- Claimers of a limited queue take turns, and count active jobs only once it is their turn.
      PERFORM 1 FROM queues WHERE name = q.name FOR NO KEY UPDATE;
      SELECT count(*) INTO n FROM jobs WHERE queue = q.name AND status = 'active';
      take := least(take, q.concurrency - n);
      CONTINUE WHEN take <= 0;
    END IF;
    IF q.ordering = 'priority' THEN
      RETURN QUERY
      WITH picked AS (
        SELECT id FROM jobs
        WHERE queue = q.name AND status IN ('waiting','scheduled') AND run_at <= now()
          AND (capabilities IS NULL OR capabilities <@ p_caps)
        ORDER BY priority DESC, run_at, id
        LIMIT take FOR UPDATE SKIP LOCKED
      ), leased AS (
        UPDATE jobs j SET status = 'active', attempts = j.attempts + 1, worker_id = p_worker,
          lease_token = gen_random_uuid(), locked_at = now(),
          lease_expires_at = now() + p_lease_ms * interval '1 millisecond', started_at = now(),
          progress_percent = 0, progress_step = NULL, progress_message = NULL
        FROM picked WHERE j.id = picked.id
        RETURNING j.*
      ), ev AS (
        INSERT INTO events (job_id, queue, kind, status) SELECT id, queue, 'state', 'active' FROM leased
      )
      SELECT * FROM leased;
    ELSE
      RETURN QUERY
      WITH picked AS (
        SELECT id FROM jobs
        WHERE queue = q.name AND status IN ('waiting','scheduled') AND run_at <= now()
          AND (capabilities IS NULL OR capabilities <@ p_caps)
        ORDER BY run_at, id
        LIMIT take FOR UPDATE SKIP LOCKED
      ), leased AS (
        UPDATE jobs j SET status = 'active', attempts = j.attempts + 1, worker_id = p_worker,
          lease_token = gen_random_uuid(), locked_at = now(),
          lease_expires_at = now() + p_lease_ms * interval '1 millisecond', started_at = now(),
          progress_percent = 0, progress_step = NULL, progress_message = NULL
        FROM picked WHERE j.id = picked.id
        RETURNING j.*
      ), ev AS (
        INSERT INTO events (job_id, queue, kind, status) SELECT id, queue, 'state', 'active' FROM leased
      )
      SELECT * FROM leased;
    END IF;
    GET DIAGNOSTICS n = ROW_COUNT;
    room := room - n;
  END LOOP;
END $$;


CREATE FUNCTION complete_jobs(p_ids uuid[], p_tokens uuid[], p_results jsonb[])
RETURNS SETOF uuid LANGUAGE plpgsql AS $$
DECLARE
  done_ids uuid[];
  parents uuid[];
BEGIN
  WITH input AS (
    SELECT * FROM unnest(p_ids, p_tokens, p_results) AS t(id, token, result)
  ), done AS (
    UPDATE jobs j SET status = 'completed', result = input.result, finished_at = now(),
      duration_ms = (extract(epoch FROM now() - j.started_at) * 1000)::bigint,
      progress_percent = 100, lease_token = NULL, lease_expires_at = NULL
    FROM input
    WHERE j.id = input.id AND j.lease_token = input.token AND j.status = 'active' AND j.lease_expires_at > now()
    RETURNING j.id, j.queue, j.has_dependents
  ), ev AS (
    INSERT INTO events (job_id, queue, kind, status) SELECT id, queue, 'state', 'completed' FROM done
  )
  SELECT array_agg(id), array_agg(id) FILTER (WHERE has_dependents) INTO done_ids, parents FROM done;
  IF parents IS NOT NULL THEN
    PERFORM unblock_dependents(parents);
  END IF;
  RETURN QUERY SELECT unnest(coalesce(done_ids, '{}'::uuid[]));
END $$;

