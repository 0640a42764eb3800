-- A fair queue's claim without ranking its whole backlog (issue 14). The
-- grouped claim of migration 0015 numbered every ready job of the queue with
-- a window function on each claim, so with 100,000 waiting jobs one claim
-- sorted 100,000 rows (on disk, past work_mem): about 180 ms. A fair claim
-- now walks the queue's groups in turn order (group_turns, by an index) and
-- takes each group's first ready job by an index, stopping once it has
-- enough: its cost grows with the groups it passes over, not with the jobs.
--
-- For that, group_turns lists every group of a fair queue that has a job
-- waiting or scheduled (ready or not yet), kept so by triggers below on
-- jobs (added, or back to waiting/scheduled: retried, recovered, promoted,
-- unblocked) and on queues (turned fair). A group nobody has served yet gets
-- a turn below every served one, in the order the groups appeared, so new
-- groups go first, as before. The claim forgets a group it finds with
-- nothing waiting, unless an add of that queue is in flight (an add holds a
-- shared advisory lock on its queue until it commits, and the claim forgets
-- only under the exclusive one), so a group with a job never goes missing.
-- Jobs without a group are the group '' as before.
--
-- The trigger functions keep Docket's schema as their search_path: they run
-- for whoever writes to jobs or queues, from any search_path (an operator's
-- psql, a script naming Docket's tables by schema).

-- A turn number for a group that has not been served: below every served one, in order of arrival.
CREATE FUNCTION group_turn_unserved() RETURNS bigint LANGUAGE sql VOLATILE AS $$
  SELECT nextval('group_turn_seq') - 4611686018427387904
$$;

CREATE INDEX group_turns_order ON group_turns (queue, served);

-- Each group's ready jobs in the queue's order (grouped jobs only: no cost to jobs without a group).
CREATE INDEX jobs_group_ready_priority ON jobs (queue, group_key, priority DESC, run_at, id)
  WHERE status IN ('waiting','scheduled') AND group_key IS NOT NULL;
CREATE INDEX jobs_group_ready_fifo ON jobs (queue, group_key, run_at, id)
  WHERE status IN ('waiting','scheduled') AND group_key IS NOT NULL;

-- The advisory lock (two-key form, class 0x444b4754 'DKGT') an add holds shared on its queue.
CREATE FUNCTION group_turns_lock_key(p_queue text) RETURNS int LANGUAGE sql IMMUTABLE AS $$
  SELECT hashtext(current_schema() || '/' || p_queue)
$$;

-- Jobs added: their groups in fair queues get a turn if they have none. One call per statement.
CREATE FUNCTION group_turns_added() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(1145784148, group_turns_lock_key(x.queue))
  FROM (SELECT DISTINCT a.queue FROM added a JOIN queues q ON q.name = a.queue AND q.fair) x;
  INSERT INTO group_turns (queue, group_key, served)
  SELECT x.queue, x.g, group_turn_unserved() FROM (
    SELECT DISTINCT a.queue, coalesce(a.group_key, '') AS g FROM added a
    JOIN queues q ON q.name = a.queue AND q.fair
    WHERE a.status IN ('waiting','scheduled')
  ) x
  ON CONFLICT (queue, group_key) DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER jobs_group_turns_added AFTER INSERT ON jobs
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION group_turns_added();

-- A job back to waiting or scheduled (retry, lease recovery, promote, unblocked, snooze, retried by hand).
CREATE FUNCTION group_turns_ready() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM queues WHERE name = NEW.queue AND fair) THEN
    PERFORM pg_advisory_xact_lock_shared(1145784148, group_turns_lock_key(NEW.queue));
    INSERT INTO group_turns (queue, group_key, served)
    VALUES (NEW.queue, coalesce(NEW.group_key, ''), group_turn_unserved())
    ON CONFLICT (queue, group_key) DO NOTHING;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER jobs_group_turns_ready AFTER UPDATE OF status ON jobs
  FOR EACH ROW WHEN (NEW.status IN ('waiting','scheduled') AND OLD.status NOT IN ('waiting','scheduled'))
  EXECUTE FUNCTION group_turns_ready();

-- A queue turned fair: the groups it has waiting get their turns.
CREATE FUNCTION group_turns_queue_fair() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO group_turns (queue, group_key, served)
  SELECT NEW.name, x.g, group_turn_unserved() FROM (
    SELECT DISTINCT coalesce(group_key, '') AS g FROM jobs
    WHERE queue = NEW.name AND status IN ('waiting','scheduled')
  ) x
  ON CONFLICT (queue, group_key) DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER queues_group_turns_fair AFTER UPDATE OF fair ON queues
  FOR EACH ROW WHEN (NEW.fair AND NOT OLD.fair) EXECUTE FUNCTION group_turns_queue_fair();

-- The groups fair queues have waiting now.
INSERT INTO group_turns (queue, group_key, served)
SELECT x.queue, x.g, group_turn_unserved() FROM (
  SELECT DISTINCT j.queue, coalesce(j.group_key, '') AS g FROM jobs j
  JOIN queues q ON q.name = j.queue AND q.fair
  WHERE j.status IN ('waiting','scheduled')
) x
ON CONFLICT (queue, group_key) DO NOTHING;

-- The first ready job of one group (NULL: the jobs without a group) after skipping p_skip, in the queue's order.
CREATE FUNCTION group_ready_job(p_queue text, p_group text, p_ordering text, p_caps text[], p_now timestamptz,
  p_skip int)
RETURNS uuid LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_id uuid;
BEGIN
  IF p_group IS NOT NULL AND p_ordering = 'priority' THEN
    SELECT id INTO v_id FROM jobs
    WHERE queue = p_queue AND group_key = p_group AND status IN ('waiting','scheduled') AND run_at <= p_now
      AND (capabilities IS NULL OR capabilities <@ p_caps) AND (expires_at IS NULL OR expires_at > p_now)
    ORDER BY priority DESC, run_at, id OFFSET p_skip LIMIT 1;
  ELSIF p_group IS NOT NULL THEN
    SELECT id INTO v_id FROM jobs
    WHERE queue = p_queue AND group_key = p_group AND status IN ('waiting','scheduled') AND run_at <= p_now
      AND (capabilities IS NULL OR capabilities <@ p_caps) AND (expires_at IS NULL OR expires_at > p_now)
    ORDER BY run_at, id OFFSET p_skip LIMIT 1;
  ELSIF p_ordering = 'priority' THEN
    -- Jobs without a group have no index of their own: the queue's claim index, passing over grouped jobs.
    SELECT id INTO v_id FROM jobs
    WHERE queue = p_queue AND group_key IS NULL AND status IN ('waiting','scheduled') AND run_at <= p_now
      AND (capabilities IS NULL OR capabilities <@ p_caps) AND (expires_at IS NULL OR expires_at > p_now)
    ORDER BY priority DESC, run_at, id OFFSET p_skip LIMIT 1;
  ELSE
    SELECT id INTO v_id FROM jobs
    WHERE queue = p_queue AND group_key IS NULL AND status IN ('waiting','scheduled') AND run_at <= p_now
      AND (capabilities IS NULL OR capabilities <@ p_caps) AND (expires_at IS NULL OR expires_at > p_now)
    ORDER BY run_at, id OFFSET p_skip LIMIT 1;
  END IF;
  RETURN v_id;
END $$;

-- The fair pick: round 1 takes the first ready job of each group in turn order (least recently
-- served first) while the group has room (its limit less its active jobs, its rate budget less
-- its starts); later rounds take the groups' next jobs, only when round 1 ran out of groups.
CREATE FUNCTION pick_fair(p_queue text, p_ordering text, p_group_concurrency int, p_rate_max int,
  p_caps text[], p_take int, p_now timestamptz)
RETURNS uuid[] LANGUAGE plpgsql AS $$
DECLARE
  picked uuid[] := '{}';
  active jsonb;
  recent jsonb;
  g record;
  room int;
  v_id uuid;
  keys text[] := '{}';
  rooms int[] := '{}';
  next_keys text[];
  next_rooms int[];
  round int := 1;
  lock_key int := group_turns_lock_key(p_queue);
BEGIN
  SELECT coalesce(jsonb_object_agg(x.g, x.n), '{}') INTO active FROM (
    SELECT coalesce(group_key, '') AS g, count(*) AS n FROM jobs
    WHERE queue = p_queue AND status = 'active' AND p_group_concurrency IS NOT NULL GROUP BY 1) x;
  SELECT coalesce(jsonb_object_agg(x.g, x.n), '{}') INTO recent FROM (
    SELECT group_key AS g, count(*) AS n FROM rate_limit_starts
    WHERE queue = p_queue AND p_rate_max IS NOT NULL GROUP BY 1) x;
  FOR g IN SELECT group_key AS k FROM group_turns WHERE queue = p_queue ORDER BY served LOOP
    EXIT WHEN cardinality(picked) >= p_take;
    room := CASE WHEN p_group_concurrency IS NULL OR g.k = '' THEN p_take
      ELSE p_group_concurrency - coalesce((active ->> g.k)::int, 0) END;
    IF p_rate_max IS NOT NULL THEN
      room := least(room, p_rate_max - coalesce((recent ->> g.k)::int, 0));
    END IF;
    CONTINUE WHEN room <= 0;
    v_id := group_ready_job(p_queue, nullif(g.k, ''), p_ordering, p_caps, p_now, 0);
    IF v_id IS NULL THEN
      -- Nothing of the group waits, for anyone: forget it, unless an add of this queue is in flight
      -- (then the group may be about to get a job, and keeps its turn).
      IF pg_try_advisory_xact_lock(1145784148, lock_key) THEN
        DELETE FROM group_turns t WHERE t.queue = p_queue AND t.group_key = g.k AND NOT EXISTS (
          SELECT 1 FROM jobs j WHERE j.queue = p_queue AND j.group_key IS NOT DISTINCT FROM nullif(g.k, '')
            AND j.status IN ('waiting','scheduled'));
      END IF;
      CONTINUE;
    END IF;
    picked := picked || v_id;
    IF room > 1 THEN
      keys := keys || g.k;
      rooms := rooms || (room - 1);
    END IF;
  END LOOP;
  WHILE cardinality(picked) < p_take AND cardinality(keys) > 0 LOOP
    next_keys := '{}';
    next_rooms := '{}';
    FOR i IN 1..cardinality(keys) LOOP
      EXIT WHEN cardinality(picked) >= p_take;
      v_id := group_ready_job(p_queue, nullif(keys[i], ''), p_ordering, p_caps, p_now, round);
      CONTINUE WHEN v_id IS NULL;
      picked := picked || v_id;
      IF rooms[i] > 1 THEN
        next_keys := next_keys || keys[i];
        next_rooms := next_rooms || (rooms[i] - 1);
      END IF;
    END LOOP;
    keys := next_keys;
    rooms := next_rooms;
    round := round + 1;
  END LOOP;
  RETURN picked;
END $$;

-- claim_grouped (migration 0015) with the fair pick above; a queue with a group limit or a rate
-- limit per group that is not fair is picked as before (in the queue's order, skipping full groups).
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
    ), chosen AS (
      SELECT r.id FROM ready r
      LEFT JOIN active a ON a.g = r.g
      LEFT JOIN recent s ON s.g = r.g
      WHERE (p_group_concurrency IS NULL OR r.ungrouped OR r.rn <= p_group_concurrency - coalesce(a.n, 0))
        AND (p_rate_max IS NULL OR r.rn <= p_rate_max - coalesce(s.n, 0))
      ORDER BY CASE WHEN p_ordering = 'priority' THEN r.priority END DESC, r.run_at, r.id
      LIMIT p_take
    )
    SELECT array_agg(id) INTO picked FROM chosen;
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
  SELECT * FROM leased;
END $$;
