-- group_ready_job
-- SQLite twin: the per-group read inside pickFair in src/storage/sqlite/groups.ts.
-- The first ready job of one group (NULL: the jobs without a group) after skipping p_skip, in the queue's order.
CREATE OR REPLACE FUNCTION group_ready_job(p_queue text, p_group text, p_ordering text, p_caps text[], p_now timestamptz,
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
