-- Every attempt of a job (core/attempts.ts): a claim opens one (outcome
-- 'running', no finished_at); whatever ends the lease closes it, in the same
-- statement or transaction. seq counts a job's attempt rows from 1; `attempt`
-- is the job's attempt count then (a released or snoozed attempt is not
-- counted, so its number comes again). Rows go with their job.
CREATE TABLE job_attempts (
  job_id uuid NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  seq integer NOT NULL,
  attempt integer NOT NULL,
  worker_id text,
  started_at timestamptz(3),
  finished_at timestamptz(3),
  outcome text NOT NULL,
  error jsonb,
  PRIMARY KEY (job_id, seq)
);

-- Expiry (core/expiry.ts): a job not started by expires_at is never run. The
-- claim skips it; the maintenance sweep finds it through this index, which
-- holds only jobs that can expire.
ALTER TABLE jobs ADD COLUMN expires_at timestamptz(3);
CREATE INDEX jobs_expiring ON jobs (expires_at)
  WHERE expires_at IS NOT NULL AND status IN ('waiting','scheduled','blocked','held');

-- Dependency types (core/dependencies.ts): 'success' waits for the upstream
-- job to complete and fails with it; 'completion' waits until it is final,
-- whatever its outcome (unblock_dependents counts every edge of a completed
-- job, so it needs no change). A batch's `then` job depends on the whole batch
-- with 'completion'; the batch remembers it.
ALTER TABLE job_dependencies ADD COLUMN type text NOT NULL DEFAULT 'success'
  CHECK (type IN ('success','completion'));
ALTER TABLE batches ADD COLUMN then_job_id uuid;

-- claim_jobs opens an attempt for every job it leases, and never starts an
-- expired job; complete_jobs closes the attempt.
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

CREATE OR REPLACE FUNCTION complete_jobs(p_ids uuid[], p_tokens uuid[], p_results jsonb[], p_now timestamptz DEFAULT NULL)
RETURNS SETOF uuid LANGUAGE plpgsql AS $$
DECLARE
  done_ids uuid[];
  parents uuid[];
  v_now timestamptz := coalesce(p_now, now());
BEGIN
  WITH input AS (
    SELECT * FROM unnest(p_ids, p_tokens, p_results) AS t(id, token, result)
  ), done AS (
    UPDATE jobs j SET status = 'completed', result = input.result, finished_at = v_now,
      duration_ms = (extract(epoch FROM v_now - j.started_at) * 1000)::bigint,
      progress_percent = 100, lease_token = NULL, lease_expires_at = NULL,
      lease_ended_token = j.lease_token, lease_ended_reason = 'completed', lease_ended_attempt = j.attempts
    FROM input
    WHERE j.id = input.id AND j.lease_token = input.token AND j.status = 'active' AND j.lease_expires_at > v_now
    RETURNING j.id, j.queue, j.has_dependents, j.worker_id
  ), ev AS (
    INSERT INTO events (job_id, queue, worker_id, kind, status, at)
    SELECT id, queue, worker_id, 'state', 'completed', v_now FROM done
  ), att AS (
    UPDATE job_attempts a SET finished_at = v_now, outcome = 'completed'
    FROM done WHERE a.job_id = done.id AND a.finished_at IS NULL
  )
  SELECT array_agg(id), array_agg(id) FILTER (WHERE has_dependents) INTO done_ids, parents FROM done;
  IF parents IS NOT NULL THEN
    PERFORM unblock_dependents(parents, v_now);
  END IF;
  RETURN QUERY SELECT unnest(coalesce(done_ids, '{}'::uuid[]));
END $$;

-- Dedupe with a TTL (core/dedupe.ts): a job with the key that finished within
-- the TTL still holds it. Only finished jobs with a key are in this index.
CREATE INDEX jobs_dedupe_finished ON jobs (queue, coalesce(owner, ''), dedupe_key, finished_at)
  WHERE dedupe_key IS NOT NULL AND status IN ('completed','failed','cancelled');
