-- A fair queue's claim without ranking its whole backlog (issue 14; as
-- PostgreSQL's migration 0017). The grouped claim of migration 0011 numbered
-- every ready job of the queue with a window function on each claim; a fair
-- claim now walks the queue's groups in turn order (group_turns, by an
-- index) and takes each group's first ready job by an index, stopping once it
-- has enough (groups.ts pickFair).
--
-- For that, group_turns lists every group of a fair queue that has a job
-- waiting or scheduled, kept so by the triggers below (a job added, or back
-- to waiting/scheduled; a queue turned fair). A group not served yet gets a
-- turn below every served one (served < 0), in the order the groups appeared,
-- so new groups go first, as before. The claim forgets a group it finds with
-- nothing waiting (it holds the write lock, so no add comes between).
CREATE INDEX group_turns_order ON group_turns (queue, served);
CREATE INDEX group_turns_served ON group_turns (served);

CREATE INDEX jobs_group_ready_priority ON jobs (queue, group_key, priority DESC, run_at, id)
  WHERE status IN ('waiting','scheduled') AND group_key IS NOT NULL;
CREATE INDEX jobs_group_ready_fifo ON jobs (queue, group_key, run_at, id)
  WHERE status IN ('waiting','scheduled') AND group_key IS NOT NULL;

CREATE TRIGGER jobs_group_turns_added AFTER INSERT ON jobs
  WHEN NEW.status IN ('waiting','scheduled') AND (SELECT fair FROM queues WHERE name = NEW.queue) = 1
BEGIN
  INSERT INTO group_turns (queue, group_key, served)
  VALUES (NEW.queue, coalesce(NEW.group_key, ''),
    (SELECT coalesce(max(served), -4611686018427387904) + 1 FROM group_turns WHERE served < 0))
  ON CONFLICT (queue, group_key) DO NOTHING;
END;

CREATE TRIGGER jobs_group_turns_ready AFTER UPDATE OF status ON jobs
  WHEN NEW.status IN ('waiting','scheduled') AND OLD.status NOT IN ('waiting','scheduled')
    AND (SELECT fair FROM queues WHERE name = NEW.queue) = 1
BEGIN
  INSERT INTO group_turns (queue, group_key, served)
  VALUES (NEW.queue, coalesce(NEW.group_key, ''),
    (SELECT coalesce(max(served), -4611686018427387904) + 1 FROM group_turns WHERE served < 0))
  ON CONFLICT (queue, group_key) DO NOTHING;
END;

CREATE TRIGGER queues_group_turns_fair AFTER UPDATE OF fair ON queues
  WHEN NEW.fair = 1 AND OLD.fair = 0
BEGIN
  INSERT INTO group_turns (queue, group_key, served)
  SELECT NEW.name, g, (SELECT coalesce(max(served), -4611686018427387904) + 1 FROM group_turns WHERE served < 0)
  FROM (SELECT DISTINCT coalesce(group_key, '') AS g FROM jobs
        WHERE queue = NEW.name AND status IN ('waiting','scheduled')) WHERE true
  ON CONFLICT (queue, group_key) DO NOTHING;
END;

-- The groups fair queues have waiting now.
INSERT INTO group_turns (queue, group_key, served)
SELECT j.queue, coalesce(j.group_key, ''), -4611686018427387904
FROM jobs j JOIN queues q ON q.name = j.queue AND q.fair = 1
WHERE j.status IN ('waiting','scheduled')
GROUP BY j.queue, coalesce(j.group_key, '')
ON CONFLICT (queue, group_key) DO NOTHING;
