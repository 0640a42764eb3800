-- Groups (issue 14): a job's group (a tenant, a user), a queue's limit of
-- active jobs per group, fair turns between groups, a rate limit per group,
-- and a queue option that makes a job's group default to its owner.
ALTER TABLE jobs ADD COLUMN group_key text;
ALTER TABLE queues ADD COLUMN group_concurrency integer CHECK (group_concurrency IS NULL OR group_concurrency > 0);
ALTER TABLE queues ADD COLUMN fair boolean NOT NULL DEFAULT false;
ALTER TABLE queues ADD COLUMN group_by_owner boolean NOT NULL DEFAULT false;
ALTER TABLE queues ADD COLUMN rate_per text CHECK (rate_per IS NULL OR rate_per = 'group');

-- Starts of a rate limit per group are counted per group ('' for jobs without one).
ALTER TABLE rate_limit_starts ADD COLUMN group_key text NOT NULL DEFAULT '';
CREATE INDEX rate_limit_starts_group ON rate_limit_starts (queue, group_key, at);

-- When each group of a fair queue was last served: the least recently served goes first.
CREATE TABLE group_turns (
  queue text NOT NULL REFERENCES queues (name) ON DELETE CASCADE,
  group_key text NOT NULL,
  served bigint NOT NULL,
  PRIMARY KEY (queue, group_key)
);
CREATE SEQUENCE group_turn_seq;

-- The claim of a queue with groups in play, called by claim_jobs with the
-- queue's row locked (so the counts below hold until commit). Each group may
-- start at most p_group_concurrency less its active jobs, and, with a rate
-- limit per group, p_rate_max less its starts in the window (a queue-wide
-- rate limit is counted by claim_jobs; p_record_starts says to record the
-- starts either way); jobs without a
-- group are one group '' that no group limit applies to. Fair: round-robin,
-- the first ready job of each group (in the queue's order) before anyone's
-- second, least recently served group first.
CREATE FUNCTION claim_grouped(p_queue text, p_ordering text, p_group_concurrency int, p_fair boolean,
  p_rate_max int, p_rate_interval_ms bigint, p_record_starts boolean, p_worker text, p_caps text[], p_take int,
  p_lease_ms int, p_now timestamptz DEFAULT NULL)
RETURNS SETOF jobs LANGUAGE plpgsql AS $$
DECLARE
  picked uuid[];
  v_now timestamptz := coalesce(p_now, clock_timestamp());
BEGIN
  IF p_rate_max IS NOT NULL THEN
    DELETE FROM rate_limit_starts
    WHERE queue = p_queue AND at <= v_now - p_rate_interval_ms * interval '1 millisecond';
  END IF;
  WITH active AS (
    SELECT coalesce(group_key, '') AS g, count(*) AS n FROM jobs
    WHERE queue = p_queue AND status = 'active' AND p_group_concurrency IS NOT NULL GROUP BY 1
  ), recent AS (
    SELECT group_key AS g, count(*) AS n FROM rate_limit_starts
    WHERE queue = p_queue AND p_rate_max IS NOT NULL GROUP BY 1
  ), ready AS (
    SELECT id, coalesce(group_key, '') AS g, group_key IS NULL AS ungrouped, priority, run_at,
      row_number() OVER (PARTITION BY coalesce(group_key, '')
        ORDER BY CASE WHEN p_ordering = 'priority' THEN priority END DESC, run_at, id) AS rn
    FROM jobs
    WHERE queue = p_queue AND status IN ('waiting','scheduled') AND run_at <= v_now
      AND (capabilities IS NULL OR capabilities <@ p_caps)
      AND (expires_at IS NULL OR expires_at > v_now)
  ), allowed AS (
    SELECT r.*, coalesce(t.served, 0) AS served FROM ready r
    LEFT JOIN active a ON a.g = r.g
    LEFT JOIN recent s ON s.g = r.g
    LEFT JOIN group_turns t ON p_fair AND t.queue = p_queue AND t.group_key = r.g
    WHERE (p_group_concurrency IS NULL OR r.ungrouped OR r.rn <= p_group_concurrency - coalesce(a.n, 0))
      AND (p_rate_max IS NULL OR r.rn <= p_rate_max - coalesce(s.n, 0))
  ), chosen AS (
    SELECT id FROM allowed
    ORDER BY CASE WHEN p_fair THEN rn END, CASE WHEN p_fair THEN served END,
      CASE WHEN p_ordering = 'priority' THEN priority END DESC, run_at, id
    LIMIT p_take
  )
  SELECT array_agg(id) INTO picked FROM chosen;
  IF picked IS NULL THEN RETURN; END IF;
  -- The start time is read after the counts above: a job that finished in time for them to see
  -- it finished before this start, by its own time too (its finished_at is never after this started_at).
  v_now := coalesce(p_now, clock_timestamp());
  RETURN QUERY
  WITH locked AS (
    -- Re-checked under the row lock: a job cancelled or removed since the ranking is not leased.
    SELECT id FROM jobs WHERE id = ANY(picked) AND status IN ('waiting','scheduled') AND run_at <= v_now
      AND (expires_at IS NULL OR expires_at > v_now)
    FOR UPDATE SKIP LOCKED
  ), leased AS (
    UPDATE jobs j SET status = 'active', attempts = j.attempts + 1, worker_id = p_worker,
      lease_token = gen_random_uuid(), locked_at = v_now,
      lease_expires_at = v_now + p_lease_ms * interval '1 millisecond', started_at = v_now,
      progress_percent = 0, progress_step = NULL, progress_message = NULL
    FROM locked WHERE j.id = locked.id
    RETURNING j.*
  ), ev AS (
    INSERT INTO events (job_id, queue, worker_id, kind, status, at)
    SELECT id, queue, worker_id, 'state', 'active', v_now FROM leased
  ), started AS (
    INSERT INTO rate_limit_starts (queue, group_key, at)
    SELECT queue, CASE WHEN p_rate_max IS NULL THEN '' ELSE coalesce(group_key, '') END, v_now
    FROM leased WHERE p_record_starts
  ), turns AS (
    INSERT INTO group_turns AS t (queue, group_key, served)
    SELECT p_queue, g, nextval('group_turn_seq') FROM (SELECT DISTINCT coalesce(group_key, '') AS g FROM leased) x
    WHERE p_fair
    ON CONFLICT (queue, group_key) DO UPDATE SET served = excluded.served
  ), att AS (
    -- Each start opens its attempt (migration 0012, job semantics).
    INSERT INTO job_attempts (job_id, seq, attempt, worker_id, started_at, outcome)
    SELECT l.id, coalesce((SELECT max(a.seq) FROM job_attempts a WHERE a.job_id = l.id), 0) + 1,
      l.attempts, l.worker_id, v_now, 'running' FROM leased l
  )
  SELECT * FROM leased;
END $$;

CREATE OR REPLACE FUNCTION claim_jobs(p_worker text, p_queues text[], p_caps text[], p_limit int, p_lease_ms int,
  p_now timestamptz DEFAULT NULL)
RETURNS SETOF jobs LANGUAGE plpgsql AS $$
DECLARE
  q record;
  room int := p_limit;
  take int;
  n int;
  v_now timestamptz := coalesce(p_now, now());
BEGIN
  FOR q IN
    SELECT name, concurrency, ordering, rate_max, rate_interval_ms, rate_per, group_concurrency, fair FROM queues
    WHERE name = ANY(p_queues) AND status = 'active'
    ORDER BY array_position(p_queues, name)
  LOOP
    EXIT WHEN room <= 0;
    take := room;
    IF q.concurrency IS NOT NULL OR q.rate_max IS NOT NULL OR q.group_concurrency IS NOT NULL OR q.fair THEN
      -- Claimers of a limited queue take turns, and count active jobs and recent starts only once it is their turn.
      PERFORM 1 FROM queues WHERE name = q.name FOR NO KEY UPDATE;
      -- The time once it is our turn, not when our statement began: the starts a rate limit counts
      -- then carry times in the order the claims took turns, so none lands behind a window already pruned.
      v_now := coalesce(p_now, clock_timestamp());
    END IF;
    IF q.concurrency IS NOT NULL THEN
      SELECT count(*) INTO n FROM jobs WHERE queue = q.name AND status = 'active';
      take := least(take, q.concurrency - n);
      CONTINUE WHEN take <= 0;
    END IF;
    IF q.rate_max IS NOT NULL AND q.rate_per IS NULL THEN
      -- The sliding window: starts older than the interval leave it; those left count.
      DELETE FROM rate_limit_starts
      WHERE queue = q.name AND at <= v_now - q.rate_interval_ms * interval '1 millisecond';
      SELECT count(*) INTO n FROM rate_limit_starts WHERE queue = q.name;
      take := least(take, q.rate_max - n);
      CONTINUE WHEN take <= 0;
    END IF;
    IF q.group_concurrency IS NOT NULL OR q.fair OR q.rate_per = 'group' THEN
      RETURN QUERY SELECT * FROM claim_grouped(q.name, q.ordering, q.group_concurrency, q.fair,
        CASE WHEN q.rate_per = 'group' THEN q.rate_max END, q.rate_interval_ms, q.rate_max IS NOT NULL,
        p_worker, p_caps, take, p_lease_ms, p_now);
    ELSIF q.ordering = 'priority' THEN
      RETURN QUERY
      WITH picked AS (
        SELECT id FROM jobs
        WHERE queue = q.name AND status IN ('waiting','scheduled') AND run_at <= v_now
          AND (capabilities IS NULL OR capabilities <@ p_caps)
          AND (expires_at IS NULL OR expires_at > v_now)
        ORDER BY priority DESC, run_at, id
        LIMIT take FOR UPDATE SKIP LOCKED
      ), leased AS (
        UPDATE jobs j SET status = 'active', attempts = j.attempts + 1, worker_id = p_worker,
          lease_token = gen_random_uuid(), locked_at = v_now,
          lease_expires_at = v_now + p_lease_ms * interval '1 millisecond', started_at = v_now,
          progress_percent = 0, progress_step = NULL, progress_message = NULL
        FROM picked WHERE j.id = picked.id
        RETURNING j.*
      ), ev AS (
        INSERT INTO events (job_id, queue, worker_id, kind, status, at)
        SELECT id, queue, worker_id, 'state', 'active', v_now FROM leased
      ), started AS (
        INSERT INTO rate_limit_starts (queue, at)
        SELECT queue, v_now FROM leased WHERE q.rate_max IS NOT NULL
      ), att AS (
        INSERT INTO job_attempts (job_id, seq, attempt, worker_id, started_at, outcome)
        SELECT l.id, coalesce((SELECT max(a.seq) FROM job_attempts a WHERE a.job_id = l.id), 0) + 1,
          l.attempts, l.worker_id, v_now, 'running' FROM leased l
      )
      SELECT * FROM leased;
    ELSE
      RETURN QUERY
      WITH picked AS (
        SELECT id FROM jobs
        WHERE queue = q.name AND status IN ('waiting','scheduled') AND run_at <= v_now
          AND (capabilities IS NULL OR capabilities <@ p_caps)
          AND (expires_at IS NULL OR expires_at > v_now)
        ORDER BY run_at, id
        LIMIT take FOR UPDATE SKIP LOCKED
      ), leased AS (
        UPDATE jobs j SET status = 'active', attempts = j.attempts + 1, worker_id = p_worker,
          lease_token = gen_random_uuid(), locked_at = v_now,
          lease_expires_at = v_now + p_lease_ms * interval '1 millisecond', started_at = v_now,
          progress_percent = 0, progress_step = NULL, progress_message = NULL
        FROM picked WHERE j.id = picked.id
        RETURNING j.*
      ), ev AS (
        INSERT INTO events (job_id, queue, worker_id, kind, status, at)
        SELECT id, queue, worker_id, 'state', 'active', v_now FROM leased
      ), started AS (
        INSERT INTO rate_limit_starts (queue, at)
        SELECT queue, v_now FROM leased WHERE q.rate_max IS NOT NULL
      ), att AS (
        INSERT INTO job_attempts (job_id, seq, attempt, worker_id, started_at, outcome)
        SELECT l.id, coalesce((SELECT max(a.seq) FROM job_attempts a WHERE a.job_id = l.id), 0) + 1,
          l.attempts, l.worker_id, v_now, 'running' FROM leased l
      )
      SELECT * FROM leased;
    END IF;
    GET DIAGNOSTICS n = ROW_COUNT;
    room := room - n;
  END LOOP;
END $$;

-- add_job (migration 0009) takes the job option group too, and defaults it to the owner on a
-- queue that groups by owner, as the library's add does.
CREATE OR REPLACE FUNCTION add_job(p_queue text, p_type text, p_payload jsonb DEFAULT 'null', p_options jsonb DEFAULT '{}')
RETURNS uuid
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  known constant text[] := ARRAY['id', 'priority', 'runAt', 'delayMs', 'maxAttempts', 'backoff', 'timeoutMs',
    'owner', 'group', 'capabilities', 'dedupeKey', 'estimatedDurationMs'];
  ten_years constant bigint := 10::bigint * 365 * 24 * 3600 * 1000;
  o jsonb := coalesce(p_options, '{}');
  q queues%ROWTYPE;
  k text;
  v jsonb;
  v_id uuid;
  v_priority integer := 50;
  v_run_at timestamptz;
  v_max integer;
  v_backoff jsonb;
  v_timeout bigint;
  v_owner text;
  v_group text;
  v_caps text[];
  v_key text;
  v_est bigint;
  v_status text;
  v_existing uuid;
  v_now timestamptz := now();
BEGIN
  IF p_queue IS NULL OR p_queue !~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' THEN
    RAISE EXCEPTION 'add_job: queue: expected 1-128 characters: letters, digits and . _ : - (starting with a letter or digit)'
      USING ERRCODE = '22023';
  END IF;
  IF p_type IS NULL OR length(p_type) NOT BETWEEN 1 AND 200 THEN
    RAISE EXCEPTION 'add_job: type: expected 1-200 characters' USING ERRCODE = '22023';
  END IF;
  IF p_payload IS NULL THEN p_payload := 'null'; END IF;
  IF octet_length(p_payload::text) > 1048576 THEN
    RAISE EXCEPTION 'add_job: payload: % bytes of JSON is over the limit of 1048576', octet_length(p_payload::text)
      USING ERRCODE = '22023';
  END IF;
  IF jsonb_typeof(o) <> 'object' THEN
    RAISE EXCEPTION 'add_job: options: expected a JSON object' USING ERRCODE = '22023';
  END IF;
  FOR k IN SELECT jsonb_object_keys(o) LOOP
    IF NOT k = ANY (known) THEN
      RAISE EXCEPTION 'add_job: options.%: not an option add_job takes (it takes %)', k, array_to_string(known, ', ')
        USING ERRCODE = '22023';
    END IF;
  END LOOP;

  SELECT * INTO q FROM queues WHERE name = p_queue FOR KEY SHARE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'add_job: queue ''%'' does not exist', p_queue USING ERRCODE = '22023';
  END IF;

  -- id: a UUID given, else a UUIDv7 (time-ordered, as the library makes them).
  v := o -> 'id';
  IF v IS NOT NULL AND jsonb_typeof(v) <> 'null' THEN
    IF jsonb_typeof(v) <> 'string' OR v #>> '{}' !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
      RAISE EXCEPTION 'add_job: options.id: expected a UUID' USING ERRCODE = '22023';
    END IF;
    v_id := lower(v #>> '{}')::uuid;
  ELSE
    v_id := encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) PLACING
      substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6),
      52, 1), 53, 1), 'hex')::uuid;
  END IF;

  v := o -> 'priority';
  IF v IS NOT NULL THEN
    IF jsonb_typeof(v) = 'string' AND v #>> '{}' IN ('low', 'normal', 'high', 'urgent') THEN
      v_priority := CASE v #>> '{}' WHEN 'low' THEN 25 WHEN 'normal' THEN 50 WHEN 'high' THEN 75 ELSE 100 END;
    ELSIF jsonb_typeof(v) = 'number' AND (v #>> '{}')::numeric BETWEEN 0 AND 100
      AND (v #>> '{}')::numeric = trunc((v #>> '{}')::numeric) THEN
      v_priority := (v #>> '{}')::integer;
    ELSE
      RAISE EXCEPTION 'add_job: options.priority: expected an integer from 0 to 100, or low, normal, high or urgent'
        USING ERRCODE = '22023';
    END IF;
  END IF;

  IF o ? 'runAt' AND o ? 'delayMs' THEN
    RAISE EXCEPTION 'add_job: options.delayMs: give runAt or delayMs, not both' USING ERRCODE = '22023';
  END IF;
  v_run_at := v_now;
  v := o -> 'runAt';
  IF v IS NOT NULL THEN
    BEGIN
      IF jsonb_typeof(v) = 'number' AND (v #>> '{}')::numeric >= 0 THEN
        v_run_at := to_timestamp((v #>> '{}')::numeric / 1000.0);
      ELSIF jsonb_typeof(v) = 'string' AND v #>> '{}' ~ '^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}(:?\d{2})?)$' THEN
        v_run_at := (v #>> '{}')::timestamptz;
      ELSE
        RAISE EXCEPTION USING ERRCODE = '22007';
      END IF;
    EXCEPTION WHEN OTHERS THEN
      RAISE EXCEPTION 'add_job: options.runAt: expected an ISO 8601 date-time with its offset, or epoch milliseconds'
        USING ERRCODE = '22023';
    END;
  END IF;
  v := o -> 'delayMs';
  IF v IS NOT NULL THEN
    IF jsonb_typeof(v) <> 'number' OR (v #>> '{}')::numeric NOT BETWEEN 0 AND ten_years
      OR (v #>> '{}')::numeric <> trunc((v #>> '{}')::numeric) THEN
      RAISE EXCEPTION 'add_job: options.delayMs: expected an integer number of milliseconds, 0 to 10 years'
        USING ERRCODE = '22023';
    END IF;
    v_run_at := v_now + ((v #>> '{}')::bigint * interval '1 millisecond');
  END IF;

  v_max := q.max_attempts;
  v := o -> 'maxAttempts';
  IF v IS NOT NULL THEN
    IF jsonb_typeof(v) <> 'number' OR (v #>> '{}')::numeric NOT BETWEEN 1 AND 1000
      OR (v #>> '{}')::numeric <> trunc((v #>> '{}')::numeric) THEN
      RAISE EXCEPTION 'add_job: options.maxAttempts: expected an integer from 1 to 1000' USING ERRCODE = '22023';
    END IF;
    v_max := (v #>> '{}')::integer;
  END IF;

  -- backoff: the fields given, over the queue's policy; maxDelayMs never below delayMs.
  v_backoff := q.backoff;
  v := o -> 'backoff';
  IF v IS NOT NULL THEN
    IF jsonb_typeof(v) <> 'object' THEN
      RAISE EXCEPTION 'add_job: options.backoff: expected an object' USING ERRCODE = '22023';
    END IF;
    FOR k IN SELECT jsonb_object_keys(v) LOOP
      IF NOT k = ANY (ARRAY['type', 'delayMs', 'maxDelayMs', 'jitter']) THEN
        RAISE EXCEPTION 'add_job: options.backoff.%: not a backoff field (type, delayMs, maxDelayMs, jitter)', k
          USING ERRCODE = '22023';
      END IF;
    END LOOP;
    IF v ? 'type' AND NOT (v -> 'type') = ANY (ARRAY['"fixed"'::jsonb, '"exponential"'::jsonb]) THEN
      RAISE EXCEPTION 'add_job: options.backoff.type: expected fixed or exponential' USING ERRCODE = '22023';
    END IF;
    FOREACH k IN ARRAY ARRAY['delayMs', 'maxDelayMs'] LOOP
      IF v ? k AND (jsonb_typeof(v -> k) <> 'number' OR (v ->> k)::numeric NOT BETWEEN 0 AND ten_years
        OR (v ->> k)::numeric <> trunc((v ->> k)::numeric)) THEN
        RAISE EXCEPTION 'add_job: options.backoff.%: expected an integer number of milliseconds, 0 to 10 years', k
          USING ERRCODE = '22023';
      END IF;
    END LOOP;
    IF v ? 'jitter' AND (jsonb_typeof(v -> 'jitter') <> 'number' OR (v ->> 'jitter')::numeric NOT BETWEEN 0 AND 1) THEN
      RAISE EXCEPTION 'add_job: options.backoff.jitter: expected a number from 0 to 1' USING ERRCODE = '22023';
    END IF;
    v_backoff := v_backoff || v;
    IF (v_backoff ->> 'maxDelayMs')::numeric < (v_backoff ->> 'delayMs')::numeric THEN
      v_backoff := jsonb_set(v_backoff, '{maxDelayMs}', v_backoff -> 'delayMs');
    END IF;
  END IF;

  v_timeout := q.timeout_ms;
  IF o ? 'timeoutMs' THEN
    v := o -> 'timeoutMs';
    IF jsonb_typeof(v) = 'null' THEN
      v_timeout := NULL;
    ELSIF jsonb_typeof(v) <> 'number' OR (v #>> '{}')::numeric < 1
      OR (v #>> '{}')::numeric <> trunc((v #>> '{}')::numeric) THEN
      RAISE EXCEPTION 'add_job: options.timeoutMs: expected a positive integer number of milliseconds, or null'
        USING ERRCODE = '22023';
    ELSE
      v_timeout := (v #>> '{}')::bigint;
    END IF;
  END IF;

  v := o -> 'owner';
  IF v IS NOT NULL AND jsonb_typeof(v) <> 'null' THEN
    IF jsonb_typeof(v) <> 'string' OR length(v #>> '{}') NOT BETWEEN 1 AND 200 THEN
      RAISE EXCEPTION 'add_job: options.owner: expected 1-200 characters, or null' USING ERRCODE = '22023';
    END IF;
    v_owner := v #>> '{}';
  END IF;

  v := o -> 'group';
  IF v IS NOT NULL AND jsonb_typeof(v) <> 'null' THEN
    IF jsonb_typeof(v) <> 'string' OR length(v #>> '{}') NOT BETWEEN 1 AND 200 THEN
      RAISE EXCEPTION 'add_job: options.group: expected 1-200 characters, or null' USING ERRCODE = '22023';
    END IF;
    v_group := v #>> '{}';
  END IF;
  -- A queue that groups by owner gives a job without a group its owner (core/resolve.ts resolveJob).
  IF v_group IS NULL AND q.group_by_owner THEN
    v_group := v_owner;
  END IF;

  v := o -> 'capabilities';
  IF v IS NOT NULL THEN
    IF jsonb_typeof(v) <> 'array' OR jsonb_array_length(v) > 50
      OR EXISTS (SELECT 1 FROM jsonb_array_elements(v) e
                 WHERE jsonb_typeof(e) <> 'string' OR length(e #>> '{}') NOT BETWEEN 1 AND 200) THEN
      RAISE EXCEPTION 'add_job: options.capabilities: expected at most 50 names of 1-200 characters'
        USING ERRCODE = '22023';
    END IF;
    -- Sorted and unique, as the library keeps them; none is stored as NULL.
    SELECT array_agg(c ORDER BY c COLLATE "C") INTO v_caps FROM (SELECT DISTINCT c FROM jsonb_array_elements_text(v) c) d;
  END IF;

  v := o -> 'dedupeKey';
  IF v IS NOT NULL AND jsonb_typeof(v) <> 'null' THEN
    IF jsonb_typeof(v) <> 'string' OR length(v #>> '{}') NOT BETWEEN 1 AND 500 THEN
      RAISE EXCEPTION 'add_job: options.dedupeKey: expected 1-500 characters, or null' USING ERRCODE = '22023';
    END IF;
    v_key := v #>> '{}';
  END IF;

  v := o -> 'estimatedDurationMs';
  IF v IS NOT NULL AND jsonb_typeof(v) <> 'null' THEN
    IF jsonb_typeof(v) <> 'number' OR (v #>> '{}')::numeric NOT BETWEEN 0 AND ten_years
      OR (v #>> '{}')::numeric <> trunc((v #>> '{}')::numeric) THEN
      RAISE EXCEPTION 'add_job: options.estimatedDurationMs: expected an integer number of milliseconds, or null'
        USING ERRCODE = '22023';
    END IF;
    v_est := (v #>> '{}')::bigint;
  END IF;

  -- The initial state, as core/states.ts initialStatus decides it (no dependencies here).
  v_status := CASE WHEN q.mode = 'manual' THEN 'held' WHEN v_run_at > v_now THEN 'scheduled' ELSE 'waiting' END;

  -- A live job of this queue and owner with the key is the answer; a concurrent add that
  -- takes the key between our look-up and our insert is found on the next turn.
  FOR turn IN 1..5 LOOP
    IF v_key IS NOT NULL THEN
      SELECT j.id INTO v_existing FROM jobs j
      WHERE j.queue = p_queue AND coalesce(j.owner, '') = coalesce(v_owner, '') AND j.dedupe_key = v_key
        AND j.status IN ('waiting', 'scheduled', 'blocked', 'held', 'active');
      IF FOUND THEN
        RETURN v_existing;
      END IF;
    END IF;
    BEGIN
      INSERT INTO jobs (id, queue, type, payload, status, priority, run_at, max_attempts, backoff, timeout_ms,
        owner, capabilities, dedupe_key, pending_deps, created_at, estimated_duration_ms, group_key)
      VALUES (v_id, p_queue, p_type, p_payload, v_status, v_priority, v_run_at, v_max, v_backoff, v_timeout,
        v_owner, v_caps, v_key, 0, v_now, v_est, v_group);
    EXCEPTION WHEN unique_violation THEN
      IF v_key IS NOT NULL AND turn < 5 AND NOT EXISTS (SELECT 1 FROM jobs WHERE id = v_id) THEN
        CONTINUE;
      END IF;
      IF EXISTS (SELECT 1 FROM jobs WHERE id = v_id) THEN
        RAISE EXCEPTION 'add_job: options.id: a job with id % exists', v_id USING ERRCODE = '23505';
      END IF;
      RAISE;
    END;
    INSERT INTO events (job_id, queue, kind, status, at) VALUES (v_id, p_queue, 'added', v_status, v_now);
    IF v_status = 'waiting' THEN
      -- Delivered when the caller's transaction commits, and never if it rolls back.
      PERFORM pg_notify('docket_ready_' || current_schema(), p_queue);
    END IF;
    RETURN v_id;
  END LOOP;
  RAISE EXCEPTION 'add_job: the dedupe key % was taken and released repeatedly; add again', v_key
    USING ERRCODE = '40001';
END
$$;
