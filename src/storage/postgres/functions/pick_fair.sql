-- pick_fair
-- SQLite twin: pickFair in src/storage/sqlite/groups.ts.
-- The fair pick: round 1 takes the first ready job of each group in turn order (least recently
-- served first) while the group has room (its limit less its active jobs, its rate budget less
-- its starts); later rounds take the groups' next jobs, only when round 1 ran out of groups.
CREATE OR REPLACE FUNCTION pick_fair(p_queue text, p_ordering text, p_group_concurrency int, p_rate_max int,
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
