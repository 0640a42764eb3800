/**
 * The two hot paths, claim and complete, are PL/pgSQL functions so that each
 * is one round trip and one atomic statement for the caller, yet can take a
 * fresh snapshot between steps: a concurrency limit must be counted after
 * the queue's row lock is held, and dependents must be read after the
 * completion has locked its rows (so a dependency added concurrently is seen).
 *
 * The status rules here mirror core/states.ts (initialStatus) and are covered
 * by the conformance suite on both drivers.
 */

/** Last dependency completed: blocked -> held | scheduled | waiting (see initialStatus). */
export const UNBLOCK_FUNCTION = `
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
`

export const CLAIM_FUNCTION = `
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
`

/** Completes every job whose lease still holds; returns the ids that completed. */
export const COMPLETE_FUNCTION = `
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
`

/**
 * complete_jobs as of migration 2: as above, and it records the lease that
 * ended (token, attempt, 'completed'), so a late call with that token is told
 * the job was completed under it.
 */
export const COMPLETE_FUNCTION_2 = `
CREATE OR REPLACE FUNCTION complete_jobs(p_ids uuid[], p_tokens uuid[], p_results jsonb[])
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
      progress_percent = 100, lease_token = NULL, lease_expires_at = NULL,
      lease_ended_token = j.lease_token, lease_ended_reason = 'completed', lease_ended_attempt = j.attempts
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
`
