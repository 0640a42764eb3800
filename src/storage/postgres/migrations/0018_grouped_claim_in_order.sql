-- The grouped claim of a queue that is not fair, without ranking its whole
-- backlog. A queue with groupConcurrency or a rate limit per group (and not
-- fair) still numbered every ready job of the queue with a window function
-- on each claim (migration 0015): with 100,000 waiting jobs, one claim sorted
-- them all. Its pick now walks the queue's ready jobs in the queue's order by
-- the claim index, passing over the jobs of groups with no room left, and
-- stops once it has enough: it reads the jobs ahead of those it takes (the
-- full groups' among them), not the backlog. Which jobs it takes is as before.

-- The pick of a grouped queue that is not fair: its ready jobs in the queue's order, passing over
-- those of groups with no room left (a group's limit less its active jobs, its rate budget less its
-- recent starts; jobs without a group, '', only by the rate budget).
CREATE FUNCTION pick_in_order(p_queue text, p_ordering text, p_group_concurrency int, p_rate_max int,
  p_caps text[], p_take int, p_now timestamptz)
RETURNS uuid[] LANGUAGE plpgsql AS $$
DECLARE
  picked uuid[] := '{}';
  active jsonb;
  recent jsonb;
  taken jsonb := '{}';
  ready refcursor;
  r record;
  room int;
  n int;
BEGIN
  SELECT coalesce(jsonb_object_agg(x.g, x.n), '{}') INTO active FROM (
    SELECT coalesce(group_key, '') AS g, count(*) AS n FROM jobs
    WHERE queue = p_queue AND status = 'active' AND p_group_concurrency IS NOT NULL GROUP BY 1) x;
  SELECT coalesce(jsonb_object_agg(x.g, x.n), '{}') INTO recent FROM (
    SELECT group_key AS g, count(*) AS n FROM rate_limit_starts
    WHERE queue = p_queue AND p_rate_max IS NOT NULL GROUP BY 1) x;
  -- The claim index serves either order; a cursor reads it a few rows at a time, so the walk
  -- stops where the pick is complete.
  IF p_ordering = 'priority' THEN
    OPEN ready FOR SELECT id, coalesce(group_key, '') AS g FROM jobs
      WHERE queue = p_queue AND status IN ('waiting','scheduled') AND run_at <= p_now
        AND (capabilities IS NULL OR capabilities <@ p_caps) AND (expires_at IS NULL OR expires_at > p_now)
      ORDER BY priority DESC, run_at, id;
  ELSE
    OPEN ready FOR SELECT id, coalesce(group_key, '') AS g FROM jobs
      WHERE queue = p_queue AND status IN ('waiting','scheduled') AND run_at <= p_now
        AND (capabilities IS NULL OR capabilities <@ p_caps) AND (expires_at IS NULL OR expires_at > p_now)
      ORDER BY run_at, id;
  END IF;
  LOOP
    FETCH ready INTO r;
    EXIT WHEN NOT FOUND;
    room := CASE WHEN p_group_concurrency IS NULL OR r.g = '' THEN p_take
      ELSE p_group_concurrency - coalesce((active ->> r.g)::int, 0) END;
    IF p_rate_max IS NOT NULL THEN
      room := least(room, p_rate_max - coalesce((recent ->> r.g)::int, 0));
    END IF;
    n := coalesce((taken ->> r.g)::int, 0);
    CONTINUE WHEN n >= room;
    taken := jsonb_set(taken, ARRAY[r.g], to_jsonb(n + 1));
    picked := picked || r.id;
    EXIT WHEN cardinality(picked) >= p_take;
  END LOOP;
  CLOSE ready;
  RETURN picked;
END $$;

-- claim_grouped (migration 0017) with the pick above for queues that are not fair, and the jobs
-- returned in the order they were picked (they came back in no particular order).
CREATE OR REPLACE FUNCTION claim_grouped(p_queue text, p_ordering text, p_group_concurrency int, p_fair boolean,
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
  IF p_fair THEN
    picked := pick_fair(p_queue, p_ordering, p_group_concurrency, p_rate_max, p_caps, p_take, v_now);
  ELSE
    picked := pick_in_order(p_queue, p_ordering, p_group_concurrency, p_rate_max, p_caps, p_take, v_now);
  END IF;
  IF picked IS NULL OR cardinality(picked) = 0 THEN RETURN; END IF;
  -- The start time is read after the counts above: a job that finished in time for them to see
  -- it finished before this start, by its own time too (its finished_at is never after this started_at).
  v_now := coalesce(p_now, clock_timestamp());
  RETURN QUERY
  WITH locked AS (
    -- Re-checked under the row lock: a job cancelled or removed since the pick is not leased.
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
  -- In the order of the pick, which is the order the worker is to start them in.
  SELECT l.* FROM leased l JOIN unnest(picked) WITH ORDINALITY AS p(id, n) ON p.id = l.id ORDER BY p.n;
END $$;
