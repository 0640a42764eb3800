-- claim_jobs: The claim: up to p_limit ready jobs of p_queues leased to p_worker, queue by queue in the order given, within each queue's concurrency and rate limits.
-- SQLite twin: claimJobs in src/storage/sqlite/leases.ts.
-- requires: lease_jobs, claim_grouped
CREATE OR REPLACE FUNCTION claim_jobs(p_worker text, p_queues text[], p_caps text[], p_limit int, p_lease_ms int,
  p_now timestamptz DEFAULT NULL)
RETURNS SETOF jobs LANGUAGE plpgsql AS $$
DECLARE
  q record;
  room int := p_limit;
  take int;
  n int;
  v_ids uuid[];
  v_now timestamptz := coalesce(p_now, now());
BEGIN
  -- Claimers of a limited queue take turns on its row, and count active jobs and recent starts only
  -- once it is their turn. Every limited queue this claim may serve is locked here, up front and in
  -- name order, whatever order the worker asks for them in: two claims that lock two queues each in
  -- their own order (a worker rotates its queues) would deadlock.
  PERFORM 1 FROM queues
  WHERE name = ANY(p_queues) AND status = 'active'
    AND (concurrency IS NOT NULL OR rate_max IS NOT NULL OR group_concurrency IS NOT NULL OR fair)
  ORDER BY name FOR NO KEY UPDATE;
  FOR q IN
    SELECT name, concurrency, ordering, rate_max, rate_interval_ms, rate_per, group_concurrency, fair FROM queues
    WHERE name = ANY(p_queues) AND status = 'active'
    ORDER BY array_position(p_queues, name)
  LOOP
    EXIT WHEN room <= 0;
    take := room;
    IF q.concurrency IS NOT NULL THEN
      SELECT count(*) INTO n FROM jobs WHERE queue = q.name AND status = 'active';
      take := least(take, q.concurrency - n);
      CONTINUE WHEN take <= 0;
    END IF;
    IF q.rate_max IS NOT NULL AND q.rate_per IS NULL THEN
      -- The sliding window: starts older than the interval leave it; those left count.
      DELETE FROM rate_limit_starts
      WHERE queue = q.name AND at <= coalesce(p_now, clock_timestamp()) - q.rate_interval_ms * interval '1 millisecond';
      SELECT count(*) INTO n FROM rate_limit_starts WHERE queue = q.name;
      take := least(take, q.rate_max - n);
      CONTINUE WHEN take <= 0;
    END IF;
    IF q.concurrency IS NOT NULL OR q.rate_max IS NOT NULL OR q.group_concurrency IS NOT NULL OR q.fair THEN
      -- The start time, read after the counts above and under the queue's lock: a job whose end
      -- those counts saw ended before this start by its own time too (its finished_at, its
      -- transaction's start, is before its commit, which is before this read), so the recorded
      -- history never shows more active jobs than the limit; and the starts a rate limit counts
      -- carry times in the order the claims took turns, so none lands behind a window already pruned.
      v_now := coalesce(p_now, clock_timestamp());
    END IF;
    IF q.group_concurrency IS NOT NULL OR q.fair OR q.rate_per = 'group' THEN
      RETURN QUERY SELECT * FROM claim_grouped(q.name, q.ordering, q.group_concurrency, q.fair,
        CASE WHEN q.rate_per = 'group' THEN q.rate_max END, q.rate_interval_ms, q.rate_max IS NOT NULL,
        p_worker, p_caps, take, p_lease_ms, p_now);
    ELSE
      -- Locked here and leased by lease_jobs: the rows stay locked until this transaction ends.
      IF q.ordering = 'priority' THEN
        v_ids := ARRAY(
          SELECT id FROM jobs
          WHERE queue = q.name AND status IN ('waiting','scheduled') AND run_at <= v_now
            AND (capabilities IS NULL OR capabilities <@ p_caps)
            AND (expires_at IS NULL OR expires_at > v_now)
          ORDER BY priority DESC, run_at, id
          LIMIT take FOR UPDATE SKIP LOCKED);
      ELSE
        v_ids := ARRAY(
          SELECT id FROM jobs
          WHERE queue = q.name AND status IN ('waiting','scheduled') AND run_at <= v_now
            AND (capabilities IS NULL OR capabilities <@ p_caps)
            AND (expires_at IS NULL OR expires_at > v_now)
          ORDER BY run_at, id
          LIMIT take FOR UPDATE SKIP LOCKED);
      END IF;
      RETURN QUERY SELECT * FROM lease_jobs(v_ids, p_worker, p_lease_ms, v_now, q.rate_max IS NOT NULL, false);
    END IF;
    GET DIAGNOSTICS n = ROW_COUNT;
    room := room - n;
  END LOOP;
END $$;
