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
      )
      SELECT * FROM leased;
    ELSE
      RETURN QUERY
      WITH picked AS (
        SELECT id FROM jobs
        WHERE queue = q.name AND status IN ('waiting','scheduled') AND run_at <= v_now
          AND (capabilities IS NULL OR capabilities <@ p_caps)
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
      )
      SELECT * FROM leased;
    END IF;
    GET DIAGNOSTICS n = ROW_COUNT;
    room := room - n;
  END LOOP;
END $$;
