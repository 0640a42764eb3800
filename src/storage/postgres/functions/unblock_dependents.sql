-- unblock_dependents: Dependents of jobs that just completed count one dependency fewer, and leave blocked when none is left.
-- SQLite twin: onCompleted in src/storage/sqlite/dependencies.ts.
CREATE OR REPLACE FUNCTION unblock_dependents(p_parents uuid[], p_now timestamptz DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  n int;
  v_now timestamptz := coalesce(p_now, now());
BEGIN
  -- Locked first, in id order: two completions of parents that share dependents take them in one order.
  PERFORM 1 FROM jobs j
  WHERE j.id IN (SELECT d.job_id FROM job_dependencies d WHERE d.depends_on = ANY(p_parents)) AND j.status = 'blocked'
  ORDER BY j.id FOR NO KEY UPDATE;
  WITH counts AS (
    SELECT d.job_id, count(*)::int AS n FROM job_dependencies d WHERE d.depends_on = ANY(p_parents) GROUP BY d.job_id
  ), moved AS (
    UPDATE jobs j SET
      pending_deps = j.pending_deps - c.n,
      status = CASE
        WHEN j.pending_deps - c.n > 0 THEN 'blocked'
        WHEN q.mode = 'manual' THEN 'held'
        WHEN j.run_at > v_now THEN 'scheduled'
        ELSE 'waiting' END
    FROM counts c, queues q
    WHERE j.id = c.job_id AND q.name = j.queue AND j.status = 'blocked'
    RETURNING j.id, j.queue, j.status
  )
  , ev AS (
    INSERT INTO events (job_id, queue, kind, status, at)
    SELECT id, queue, 'state', status, v_now FROM moved WHERE status <> 'blocked'
  )
  SELECT count(pg_notify('docket_ready_' || current_schema(), queue)) INTO n
  FROM (SELECT DISTINCT queue FROM moved WHERE status = 'waiting') ready;
END $$;
