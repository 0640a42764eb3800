-- pick_in_order
-- SQLite twin: pickInOrder in src/storage/sqlite/groups.ts.
-- The pick of a grouped queue that is not fair: its ready jobs in the queue's order, passing over
-- those of groups with no room left (a group's limit less its active jobs, its rate budget less its
-- recent starts; jobs without a group, '', only by the rate budget).
CREATE OR REPLACE FUNCTION pick_in_order(p_queue text, p_ordering text, p_group_concurrency int, p_rate_max int,
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
