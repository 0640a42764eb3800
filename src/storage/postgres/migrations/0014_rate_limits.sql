-- Queue rate limits (issue 14): at most rate_max jobs of the queue start in
-- any window of rate_interval_ms, across every worker and machine. A sliding
-- window log: one row per start inside the window, written by the claim that
-- started the job (in the same statement), pruned by the next claim of that
-- queue. Claimers of a rate-limited queue take turns on the queue's row, as
-- for a concurrency limit, so two claims never both see the same free slot.
ALTER TABLE queues ADD COLUMN rate_max integer CHECK (rate_max IS NULL OR rate_max > 0);
ALTER TABLE queues ADD COLUMN rate_interval_ms bigint CHECK (rate_interval_ms IS NULL OR rate_interval_ms > 0);

CREATE TABLE rate_limit_starts (
  queue text NOT NULL REFERENCES queues (name) ON DELETE CASCADE,
  at timestamptz(3) NOT NULL
);
CREATE INDEX rate_limit_starts_window ON rate_limit_starts (queue, at);

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
    SELECT name, concurrency, ordering, rate_max, rate_interval_ms FROM queues
    WHERE name = ANY(p_queues) AND status = 'active'
    ORDER BY array_position(p_queues, name)
  LOOP
    EXIT WHEN room <= 0;
    take := room;
    IF q.concurrency IS NOT NULL OR q.rate_max IS NOT NULL THEN
      -- Claimers of a limited queue take turns, and count active jobs and recent starts only once it is their turn.
      PERFORM 1 FROM queues WHERE name = q.name FOR NO KEY UPDATE;
    END IF;
    IF q.concurrency IS NOT NULL THEN
      SELECT count(*) INTO n FROM jobs WHERE queue = q.name AND status = 'active';
      take := least(take, q.concurrency - n);
      CONTINUE WHEN take <= 0;
    END IF;
    IF q.rate_max IS NOT NULL THEN
      -- The sliding window: starts older than the interval leave it; those left count.
      DELETE FROM rate_limit_starts
      WHERE queue = q.name AND at <= v_now - q.rate_interval_ms * interval '1 millisecond';
      SELECT count(*) INTO n FROM rate_limit_starts WHERE queue = q.name;
      take := least(take, q.rate_max - n);
      CONTINUE WHEN take <= 0;
    END IF;
    IF q.ordering = 'priority' THEN
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
