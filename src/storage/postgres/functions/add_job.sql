-- add_job: adds a job from SQL, inside whatever transaction calls it, so that
-- an ORM's raw query (Prisma's $executeRaw, Drizzle's or Kysely's sql``,
-- knex.raw) or a trigger enqueues in its own transaction: the job exists if
-- and only if that transaction commits, and workers are woken at commit.
--
--   SELECT docket.add_job('emails', 'welcome', '{"userId": 42}', '{"priority": "high", "delayMs": 60000}');
--
-- It is the library's add for one job without dependencies or files: the same
-- checks, each refused with SQLSTATE 22023 (invalid_parameter_value) and a
-- message naming the field; the queue's defaults (a queue that groups by owner
-- defaults the group to the owner); dedupe per queue and owner among live jobs
-- (the live job's id is returned instead of a new one); the 'added' event and
-- the wake-up. Its messages are those of core/bounds.ts where a bound is
-- one of its rules. search_path is pinned to Docket's schema (FROM CURRENT: the
-- runner's), so it works whatever the caller's path is.
-- SQLite twin: none in SQL (SQLite has no stored functions); the same rules as addJobs in src/storage/sqlite/add.ts.
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
    RAISE EXCEPTION 'add_job: queue: expected a queue name of 1-128 characters: letters, digits and . _ : - (starting with a letter or digit)'
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
      RAISE EXCEPTION 'add_job: options.id: expected a job id (a UUID)' USING ERRCODE = '22023';
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
      RAISE EXCEPTION 'add_job: options.delayMs: expected a duration: a whole number of milliseconds from 0 to 315360000000 (ten years)'
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
        RAISE EXCEPTION 'add_job: options.backoff.%: expected a duration: a whole number of milliseconds from 0 to 315360000000 (ten years)', k
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
