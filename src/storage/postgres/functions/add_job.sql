-- add_job: adds a job from SQL, inside whatever transaction calls it, so that
-- an ORM's raw query (Prisma's $executeRaw, Drizzle's or Kysely's sql``,
-- knex.raw) or a trigger enqueues in its own transaction: the job exists if
-- and only if that transaction commits, and workers are woken at commit.
--
--   SELECT docket.add_job('emails', 'welcome', '{"userId": 42}', '{"priority": "high", "delayMs": 60000}');
--
-- It is the library's add for one job without files: every option add takes
-- (test/unit/migrations-bundle.test.ts checks the list against core/options.ts
-- jobInput), the same checks, each refused with SQLSTATE 22023
-- (invalid_parameter_value) and a message naming the field (a taken id:
-- 23505); the queue's defaults (on a queue that groups by owner a job's group
-- is its owner); the payload limit the database's Docket records
-- (settings.max_payload_bytes, else 1 MiB); dedupe per queue and owner with
-- its modes (keep returns the live job's id, replace and debounce update a
-- job that has not started, or queue the new job after a running one;
-- dedupeTtlMs also returns a job finished within it; dedupeMaxWaitMs caps a
-- debounce); dependencies on stored jobs of the same owner; expiry; the
-- events and the wake-up. It mirrors planInsert (core/insert.ts) and
-- decideDedupe (core/dedupe.ts) for one job, and its messages are those of
-- core/bounds.ts where a bound is one of its rules. search_path is pinned to
-- Docket's schema (FROM CURRENT: the runner's), so it works whatever the
-- caller's path is. test/transactions/postgres.test.ts adds each option both
-- ways and compares what is stored.
-- SQLite twin: none in SQL (SQLite has no stored functions); the same rules as addJobs in src/storage/sqlite/add.ts.
CREATE OR REPLACE FUNCTION add_job(p_queue text, p_type text, p_payload jsonb DEFAULT 'null', p_options jsonb DEFAULT '{}')
RETURNS uuid
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  known constant text[] := ARRAY['id', 'priority', 'runAt', 'delayMs', 'maxAttempts', 'backoff', 'timeoutMs',
    'owner', 'group', 'capabilities', 'dedupeKey', 'dedupeMode', 'dedupeTtlMs', 'dedupeMaxWaitMs', 'dependsOn',
    'estimatedDurationMs', 'expiresAt', 'expiresInMs'];
  ten_years constant bigint := 10::bigint * 365 * 24 * 3600 * 1000;
  -- The latest date JavaScript can hold (core/options.ts dateLike), in epoch milliseconds.
  max_date_ms constant numeric := 8640000000000000;
  o jsonb := coalesce(p_options, '{}');
  q queues%ROWTYPE;
  live jobs%ROWTYPE;
  k text;
  v jsonb;
  e jsonb;
  t timestamptz;
  v_id uuid;
  v_priority integer := 50;
  v_run_at timestamptz;
  v_delay bigint := 0;
  v_given_run_at timestamptz;
  v_max integer;
  v_backoff jsonb;
  v_timeout bigint;
  v_owner text;
  v_group text;
  v_caps text[];
  v_key text;
  v_mode text := 'keep';
  v_ttl bigint;
  v_max_wait bigint;
  v_est bigint;
  v_expires_at timestamptz;
  v_expires_in bigint;
  v_expiry timestamptz;
  v_expiry_field text;
  v_dep_ids uuid[] := '{}';
  v_dep_on text[] := '{}';
  v_edge_ids uuid[];
  v_edge_on text[];
  v_dep uuid;
  v_on text;
  v_dep_status text;
  v_dep_owner text;
  v_pending integer;
  v_after uuid;
  v_status text;
  v_existing uuid;
  v_limit bigint;
  v_bytes bigint;
  pos integer;
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
  IF jsonb_typeof(o) <> 'object' THEN
    RAISE EXCEPTION 'add_job: options: expected a JSON object' USING ERRCODE = '22023';
  END IF;
  FOR k IN SELECT jsonb_object_keys(o) LOOP
    IF NOT k = ANY (known) THEN
      RAISE EXCEPTION 'add_job: options.%: not an option add_job takes (it takes %)', k, array_to_string(known, ', ')
        USING ERRCODE = '22023';
    END IF;
  END LOOP;

  -- The payload limit: what Docket.open({ maxPayloadBytes }) recorded, else the library's default.
  SELECT (s.value #>> '{}')::bigint INTO v_limit FROM settings s WHERE s.name = 'max_payload_bytes';
  v_limit := coalesce(v_limit, 1048576);
  v_bytes := octet_length(p_payload::text);
  IF v_bytes > v_limit THEN
    -- The library counts compact JSON (JSON.stringify); jsonb's text has a space after every ':' and ','.
    WITH RECURSIVE node(v) AS (
      SELECT p_payload
      UNION ALL
      SELECT c.v FROM node, LATERAL (
        SELECT value FROM jsonb_each(CASE WHEN jsonb_typeof(node.v) = 'object' THEN node.v ELSE '{}' END)
        UNION ALL
        SELECT value FROM jsonb_array_elements(CASE WHEN jsonb_typeof(node.v) = 'array' THEN node.v ELSE '[]' END)
      ) c(v)
    )
    SELECT v_bytes - coalesce(sum(CASE jsonb_typeof(node.v)
        WHEN 'object' THEN greatest(2 * (SELECT count(*) FROM jsonb_object_keys(node.v)) - 1, 0)
        WHEN 'array' THEN greatest(jsonb_array_length(node.v) - 1, 0)
        ELSE 0 END), 0)
      INTO v_bytes FROM node;
    IF v_bytes > v_limit THEN
      RAISE EXCEPTION 'add_job: payload: % bytes of JSON is over the limit of %', v_bytes, v_limit
        USING ERRCODE = '22023';
    END IF;
  END IF;

  -- id: a UUID given, else a UUIDv7 (time-ordered, as the library makes them).
  v := o -> 'id';
  IF v IS NOT NULL THEN
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
      v_priority := (v #>> '{}')::numeric::integer;
    ELSE
      RAISE EXCEPTION 'add_job: options.priority: expected an integer from 0 to 100, or low, normal, high or urgent'
        USING ERRCODE = '22023';
    END IF;
  END IF;

  -- The durations: whole milliseconds up to ten years; those that cannot be 0 from 1.
  FOREACH k IN ARRAY ARRAY['delayMs', 'estimatedDurationMs'] LOOP
    v := o -> k;
    CONTINUE WHEN v IS NULL OR (k = 'estimatedDurationMs' AND jsonb_typeof(v) = 'null');
    IF jsonb_typeof(v) <> 'number' OR (v #>> '{}')::numeric NOT BETWEEN 0 AND ten_years
      OR (v #>> '{}')::numeric <> trunc((v #>> '{}')::numeric) THEN
      IF k = 'delayMs' THEN
        RAISE EXCEPTION 'add_job: options.delayMs: expected a duration: a whole number of milliseconds from 0 to 315360000000 (ten years)'
          USING ERRCODE = '22023';
      END IF;
      RAISE EXCEPTION 'add_job: options.estimatedDurationMs: expected a duration: a whole number of milliseconds from 0 to 315360000000 (ten years), or null'
        USING ERRCODE = '22023';
    END IF;
  END LOOP;
  FOREACH k IN ARRAY ARRAY['dedupeTtlMs', 'dedupeMaxWaitMs', 'expiresInMs'] LOOP
    v := o -> k;
    CONTINUE WHEN v IS NULL;
    IF jsonb_typeof(v) <> 'number' OR (v #>> '{}')::numeric NOT BETWEEN 1 AND ten_years
      OR (v #>> '{}')::numeric <> trunc((v #>> '{}')::numeric) THEN
      RAISE EXCEPTION 'add_job: options.%: expected a duration: a whole number of milliseconds from 1 to 315360000000 (ten years)', k
        USING ERRCODE = '22023';
    END IF;
  END LOOP;
  v_delay := coalesce((o ->> 'delayMs')::numeric::bigint, 0);
  v_est := (o ->> 'estimatedDurationMs')::numeric::bigint;
  v_ttl := (o ->> 'dedupeTtlMs')::numeric::bigint;
  v_max_wait := (o ->> 'dedupeMaxWaitMs')::numeric::bigint;
  v_expires_in := (o ->> 'expiresInMs')::numeric::bigint;

  -- The dates: an ISO 8601 date-time with its offset, or epoch milliseconds.
  FOREACH k IN ARRAY ARRAY['runAt', 'expiresAt'] LOOP
    v := o -> k;
    CONTINUE WHEN v IS NULL;
    BEGIN
      IF jsonb_typeof(v) = 'number' AND (v #>> '{}')::numeric BETWEEN 0 AND max_date_ms
        AND (v #>> '{}')::numeric = trunc((v #>> '{}')::numeric) THEN
        t := to_timestamp((v #>> '{}')::numeric / 1000.0);
      ELSIF jsonb_typeof(v) = 'string'
        AND v #>> '{}' ~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$' THEN
        t := (v #>> '{}')::timestamptz;
      ELSE
        RAISE EXCEPTION USING ERRCODE = '22007';
      END IF;
    EXCEPTION WHEN OTHERS THEN
      RAISE EXCEPTION 'add_job: options.%: expected an ISO 8601 date-time with its offset, or epoch milliseconds', k
        USING ERRCODE = '22023';
    END;
    IF k = 'runAt' THEN v_given_run_at := t; ELSE v_expires_at := t; END IF;
  END LOOP;
  IF o ? 'runAt' AND o ? 'delayMs' THEN
    RAISE EXCEPTION 'add_job: options.delayMs: give runAt or delayMs, not both' USING ERRCODE = '22023';
  END IF;
  IF o ? 'expiresAt' AND o ? 'expiresInMs' THEN
    RAISE EXCEPTION 'add_job: options.expiresInMs: give expiresAt or expiresInMs, not both' USING ERRCODE = '22023';
  END IF;

  v := o -> 'maxAttempts';
  IF v IS NOT NULL THEN
    IF jsonb_typeof(v) <> 'number' OR (v #>> '{}')::numeric NOT BETWEEN 1 AND 1000
      OR (v #>> '{}')::numeric <> trunc((v #>> '{}')::numeric) THEN
      RAISE EXCEPTION 'add_job: options.maxAttempts: expected an integer from 1 to 1000' USING ERRCODE = '22023';
    END IF;
  END IF;

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
  END IF;

  v := o -> 'timeoutMs';
  IF v IS NOT NULL AND jsonb_typeof(v) <> 'null' AND (jsonb_typeof(v) <> 'number' OR (v #>> '{}')::numeric < 1
    OR (v #>> '{}')::numeric <> trunc((v #>> '{}')::numeric)) THEN
    RAISE EXCEPTION 'add_job: options.timeoutMs: expected a positive integer number of milliseconds, or null'
      USING ERRCODE = '22023';
  END IF;

  FOREACH k IN ARRAY ARRAY['owner', 'group'] LOOP
    v := o -> k;
    IF v IS NOT NULL AND jsonb_typeof(v) <> 'null' AND (jsonb_typeof(v) <> 'string' OR length(v #>> '{}') NOT BETWEEN 1 AND 200) THEN
      RAISE EXCEPTION 'add_job: options.%: expected 1-200 characters, or null', k USING ERRCODE = '22023';
    END IF;
  END LOOP;
  v_owner := o ->> 'owner';

  v := o -> 'capabilities';
  IF v IS NOT NULL THEN
    IF jsonb_typeof(v) <> 'array' OR jsonb_array_length(v) > 50
      OR EXISTS (SELECT 1 FROM jsonb_array_elements(v) c
                 WHERE jsonb_typeof(c) <> 'string' OR length(c #>> '{}') NOT BETWEEN 1 AND 200) THEN
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
  v := o -> 'dedupeMode';
  IF v IS NOT NULL THEN
    IF jsonb_typeof(v) <> 'string' OR NOT v #>> '{}' IN ('keep', 'replace', 'debounce') THEN
      RAISE EXCEPTION 'add_job: options.dedupeMode: expected keep, replace or debounce' USING ERRCODE = '22023';
    END IF;
    v_mode := v #>> '{}';
  END IF;
  IF v_key IS NULL THEN
    FOREACH k IN ARRAY ARRAY['dedupeMode', 'dedupeTtlMs'] LOOP
      IF o ? k THEN
        RAISE EXCEPTION 'add_job: options.%: % needs a dedupeKey', k, k USING ERRCODE = '22023';
      END IF;
    END LOOP;
  END IF;
  IF o ? 'dedupeMaxWaitMs' AND v_mode <> 'debounce' THEN
    RAISE EXCEPTION 'add_job: options.dedupeMaxWaitMs: dedupeMaxWaitMs needs dedupeMode ''debounce'''
      USING ERRCODE = '22023';
  END IF;

  -- dependsOn: job ids (waiting for success) or { id, on }; each once, success the stronger (core/resolve.ts).
  v := o -> 'dependsOn';
  IF v IS NOT NULL THEN
    IF jsonb_typeof(v) <> 'array' OR jsonb_array_length(v) > 1000 THEN
      RAISE EXCEPTION 'add_job: options.dependsOn: expected at most 1000 job ids, or { id, on } objects'
        USING ERRCODE = '22023';
    END IF;
    FOR e IN SELECT value FROM jsonb_array_elements(v) LOOP
      IF jsonb_typeof(e) = 'string' THEN
        k := e #>> '{}';
        v_on := 'success';
      ELSIF jsonb_typeof(e) = 'object' AND e ? 'id' AND e ? 'on'
        AND NOT EXISTS (SELECT 1 FROM jsonb_object_keys(e) f WHERE f NOT IN ('id', 'on'))
        AND jsonb_typeof(e -> 'id') = 'string' AND e -> 'on' IN ('"success"'::jsonb, '"completion"'::jsonb) THEN
        k := e ->> 'id';
        v_on := e ->> 'on';
      ELSE
        RAISE EXCEPTION 'add_job: options.dependsOn: expected a job id, or { id, on } with on success or completion'
          USING ERRCODE = '22023';
      END IF;
      IF k !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        RAISE EXCEPTION 'add_job: options.dependsOn: expected a job id (a UUID)' USING ERRCODE = '22023';
      END IF;
      v_dep := lower(k)::uuid;
      pos := array_position(v_dep_ids, v_dep);
      IF pos IS NULL THEN
        v_dep_ids := v_dep_ids || v_dep;
        v_dep_on := v_dep_on || v_on;
      ELSIF v_on = 'success' THEN
        v_dep_on[pos] := 'success';
      END IF;
    END LOOP;
    IF v_id = ANY (v_dep_ids) THEN
      RAISE EXCEPTION 'add_job: options.dependsOn: dependency cycle: % -> %', v_id, v_id USING ERRCODE = '22023';
    END IF;
  END IF;

  SELECT * INTO q FROM queues WHERE name = p_queue FOR KEY SHARE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'add_job: queue ''%'' does not exist', p_queue USING ERRCODE = '22023';
  END IF;

  -- The queue's defaults under what the add gives (core/resolve.ts resolveJob).
  v_max := coalesce((o ->> 'maxAttempts')::numeric::integer, q.max_attempts);
  v_backoff := q.backoff;
  IF o ? 'backoff' THEN
    v_backoff := v_backoff || (o -> 'backoff');
    IF (v_backoff ->> 'maxDelayMs')::numeric < (v_backoff ->> 'delayMs')::numeric THEN
      v_backoff := jsonb_set(v_backoff, '{maxDelayMs}', v_backoff -> 'delayMs');
    END IF;
  END IF;
  v_timeout := CASE WHEN o ? 'timeoutMs' THEN (o ->> 'timeoutMs')::numeric::bigint ELSE q.timeout_ms END;
  -- On a queue that groups by owner the group is the owner, whatever the add names (core/resolve.ts jobGroup).
  v_group := CASE WHEN q.group_by_owner THEN v_owner ELSE o ->> 'group' END;

  -- A concurrent add that takes the key between our look-up and our insert is found on the next turn;
  -- each turn's writes are undone with it.
  FOR turn IN 1..5 LOOP
    BEGIN
      v_pending := 0;
      v_after := NULL;
      IF v_key IS NOT NULL THEN
        -- Locked when it may be replaced, so that no claim starts it meanwhile (claims skip locked rows).
        IF v_mode = 'keep' THEN
          SELECT * INTO live FROM jobs j
          WHERE j.queue = p_queue AND coalesce(j.owner, '') = coalesce(v_owner, '') AND j.dedupe_key = v_key
            AND j.status IN ('waiting', 'scheduled', 'blocked', 'held', 'active');
        ELSE
          SELECT * INTO live FROM jobs j
          WHERE j.queue = p_queue AND coalesce(j.owner, '') = coalesce(v_owner, '') AND j.dedupe_key = v_key
            AND j.status IN ('waiting', 'scheduled', 'blocked', 'held', 'active')
          FOR UPDATE;
        END IF;
        IF FOUND AND v_mode = 'keep' THEN
          RETURN live.id;
        ELSIF FOUND AND live.status = 'active' THEN
          -- It keeps running and gives its key to the new job, which waits for it to be final.
          UPDATE jobs SET dedupe_key = NULL WHERE id = live.id;
          v_after := live.id;
          v_pending := 1;
        ELSIF FOUND THEN
          -- replace or debounce a job that has not started (core/dedupe.ts decideDedupe).
          t := CASE WHEN v_given_run_at IS NOT NULL THEN v_given_run_at
                    WHEN v_delay > 0 THEN v_now + v_delay * interval '1 millisecond' END;
          IF v_mode = 'debounce' THEN
            v_run_at := coalesce(t, v_now);
            IF v_max_wait IS NOT NULL THEN
              v_run_at := least(v_run_at, live.created_at + v_max_wait * interval '1 millisecond');
            END IF;
          ELSE
            v_run_at := coalesce(t, live.run_at);
          END IF;
          v_status := CASE WHEN live.status IN ('waiting', 'scheduled')
                           THEN CASE WHEN v_run_at > v_now THEN 'scheduled' ELSE 'waiting' END
                           ELSE live.status END;
          -- The expiry (core/expiry.ts resolveExpiry): in the future, and after the run time.
          v_expiry_field := CASE WHEN v_expires_at IS NOT NULL THEN 'expiresAt' ELSE 'expiresInMs' END;
          v_expiry := coalesce(v_expires_at, v_now + v_expires_in * interval '1 millisecond');
          IF v_expiry <= v_now THEN
            RAISE EXCEPTION 'add_job: options.%: must be in the future', v_expiry_field USING ERRCODE = '22023';
          ELSIF v_expiry <= v_run_at THEN
            RAISE EXCEPTION 'add_job: options.%: must come after the job''s run-at time, or it could never run',
              v_expiry_field USING ERRCODE = '22023';
          END IF;
          UPDATE jobs SET payload = p_payload, priority = v_priority, max_attempts = v_max, backoff = v_backoff,
            timeout_ms = v_timeout, capabilities = v_caps, estimated_duration_ms = v_est, expires_at = v_expiry,
            run_at = v_run_at, status = v_status
          WHERE id = live.id;
          INSERT INTO events (job_id, queue, kind, message, at)
          VALUES (live.id, p_queue, 'log', CASE WHEN v_mode = 'debounce'
            THEN 'debounced: replaced by a later add with its dedupe key'
            ELSE 'replaced by a later add with its dedupe key' END, v_now);
          IF v_status <> live.status THEN
            INSERT INTO events (job_id, queue, kind, status, at) VALUES (live.id, p_queue, 'state', v_status, v_now);
          END IF;
          IF v_status = 'waiting' THEN
            PERFORM pg_notify('docket_ready_' || current_schema(), p_queue);
          END IF;
          RETURN live.id;
        ELSIF v_ttl IS NOT NULL THEN
          -- dedupeTtlMs: a job with the key that finished less than that long ago is the answer.
          SELECT j.id INTO v_existing FROM jobs j
          WHERE j.queue = p_queue AND coalesce(j.owner, '') = coalesce(v_owner, '') AND j.dedupe_key = v_key
            AND j.status IN ('completed', 'failed', 'cancelled') AND j.finished_at > v_now - v_ttl * interval '1 millisecond'
          ORDER BY j.finished_at DESC LIMIT 1;
          IF FOUND THEN
            RETURN v_existing;
          END IF;
        END IF;
      END IF;

      -- Its dependencies: stored jobs of the same owner (anyone else's is answered as missing), share-locked in
      -- id order so none completes before we commit; those not completed are pending (core/dependencies.ts).
      IF cardinality(v_dep_ids) > 0 THEN
        PERFORM 1 FROM jobs WHERE id = ANY (v_dep_ids) ORDER BY id FOR SHARE;
      END IF;
      FOR i IN 1..cardinality(v_dep_ids) LOOP
        SELECT j.status, j.owner INTO v_dep_status, v_dep_owner FROM jobs j WHERE j.id = v_dep_ids[i];
        IF NOT FOUND OR v_dep_owner IS DISTINCT FROM v_owner THEN
          RAISE EXCEPTION 'add_job: options.dependsOn: job ''%'' depends on job ''%'', which does not exist',
            v_id, v_dep_ids[i] USING ERRCODE = '22023';
        END IF;
        IF v_dep_status IN ('failed', 'cancelled') AND v_dep_on[i] = 'success' THEN
          RAISE EXCEPTION 'add_job: options.dependsOn: job ''%'' cannot depend on job ''%'': it is % and will never complete',
            v_id, v_dep_ids[i], v_dep_status USING ERRCODE = '22023';
        END IF;
        IF v_dep_status NOT IN ('completed', 'failed', 'cancelled') THEN
          v_pending := v_pending + 1;
        END IF;
      END LOOP;

      v_run_at := coalesce(v_given_run_at, v_now + v_delay * interval '1 millisecond');
      -- A keyed debounced job added anew starts a burst: its maximum wait counts from now.
      IF v_key IS NOT NULL AND v_mode = 'debounce' AND v_max_wait IS NOT NULL THEN
        v_run_at := least(v_run_at, v_now + v_max_wait * interval '1 millisecond');
      END IF;
      -- The initial state, as core/states.ts initialStatus decides it.
      v_status := CASE WHEN v_pending > 0 THEN 'blocked' WHEN q.mode = 'manual' THEN 'held'
                       WHEN v_run_at > v_now THEN 'scheduled' ELSE 'waiting' END;
      v_expiry := NULL;
      IF v_expires_at IS NOT NULL OR v_expires_in IS NOT NULL THEN
        v_expiry_field := CASE WHEN v_expires_at IS NOT NULL THEN 'expiresAt' ELSE 'expiresInMs' END;
        v_expiry := coalesce(v_expires_at, v_now + v_expires_in * interval '1 millisecond');
        IF v_expiry <= v_now THEN
          RAISE EXCEPTION 'add_job: options.%: must be in the future', v_expiry_field USING ERRCODE = '22023';
        ELSIF v_expiry <= v_run_at THEN
          RAISE EXCEPTION 'add_job: options.%: must come after the job''s run-at time, or it could never run',
            v_expiry_field USING ERRCODE = '22023';
        END IF;
      END IF;

      INSERT INTO jobs (id, queue, type, payload, status, priority, run_at, max_attempts, backoff, timeout_ms,
        owner, capabilities, dedupe_key, pending_deps, created_at, estimated_duration_ms, expires_at, group_key)
      VALUES (v_id, p_queue, p_type, p_payload, v_status, v_priority, v_run_at, v_max, v_backoff, v_timeout,
        v_owner, v_caps, v_key, v_pending, v_now, v_est, v_expiry, v_group);
      -- The edges: its dependencies, and the running job it was queued after.
      v_edge_ids := v_dep_ids;
      v_edge_on := v_dep_on;
      IF v_after IS NOT NULL THEN
        v_edge_ids := v_edge_ids || v_after;
        v_edge_on := v_edge_on || 'completion'::text;
      END IF;
      IF cardinality(v_edge_ids) > 0 THEN
        INSERT INTO job_dependencies (job_id, depends_on, type)
        SELECT v_id, d.id, d.type FROM unnest(v_edge_ids, v_edge_on) AS d(id, type)
        ON CONFLICT DO NOTHING;
        UPDATE jobs SET has_dependents = true WHERE id = ANY (v_edge_ids) AND NOT has_dependents;
      END IF;
      INSERT INTO events (job_id, queue, kind, status, at) VALUES (v_id, p_queue, 'added', v_status, v_now);
      IF v_status = 'waiting' THEN
        -- Delivered when the caller's transaction commits, and never if it rolls back.
        PERFORM pg_notify('docket_ready_' || current_schema(), p_queue);
      END IF;
      RETURN v_id;
    EXCEPTION WHEN unique_violation THEN
      IF EXISTS (SELECT 1 FROM jobs WHERE id = v_id) THEN
        RAISE EXCEPTION 'add_job: options.id: a job with id % exists', v_id USING ERRCODE = '23505';
      END IF;
      IF v_key IS NULL OR turn = 5 THEN
        RAISE;
      END IF;
    END;
  END LOOP;
  RAISE EXCEPTION 'add_job: the dedupe key % was taken and released repeatedly; add again', v_key
    USING ERRCODE = '40001';
END
$$;
