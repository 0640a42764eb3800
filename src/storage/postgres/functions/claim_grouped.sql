-- claim_grouped: The claim of one queue with group rules (a group limit, fair turns, a rate limit per group): pick, then lease.
-- SQLite twin: pickGrouped in src/storage/sqlite/groups.ts.
-- A fair queue picks with pick_fair, any other grouped queue with pick_in_order; the jobs come back
-- in the order they were picked.
-- requires: lease_jobs, pick_fair, pick_in_order
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
  -- Re-checked under the row lock: a job cancelled or removed since the pick is not leased.
  picked := ARRAY(
    SELECT p.id FROM unnest(picked) WITH ORDINALITY AS p(id, n)
    JOIN jobs j ON j.id = p.id AND j.status IN ('waiting','scheduled') AND j.run_at <= v_now
      AND (j.expires_at IS NULL OR j.expires_at > v_now)
    ORDER BY p.n
    FOR UPDATE OF j SKIP LOCKED);
  RETURN QUERY
  WITH leased AS (
    SELECT * FROM lease_jobs(picked, p_worker, p_lease_ms, v_now, p_record_starts, p_rate_max IS NOT NULL)
  ), turns AS (
    -- A fair queue serves the groups it just leased from last next time.
    INSERT INTO group_turns AS t (queue, group_key, served)
    SELECT p_queue, g, nextval('group_turn_seq') FROM (SELECT DISTINCT coalesce(group_key, '') AS g FROM leased) x
    WHERE p_fair
    ON CONFLICT (queue, group_key) DO UPDATE SET served = excluded.served
  )
  SELECT * FROM leased;
END $$;
