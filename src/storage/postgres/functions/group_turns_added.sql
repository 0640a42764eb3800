-- group_turns_added
-- SQLite twin: the trigger jobs_group_turns_added in src/storage/sqlite/migrations/0012_fair_claim_by_group.sql.
-- Jobs added: their groups in fair queues get a turn if they have none. One call per statement.
CREATE OR REPLACE FUNCTION group_turns_added() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(1145784148, group_turns_lock_key(x.queue))
  FROM (SELECT DISTINCT a.queue FROM added a JOIN queues q ON q.name = a.queue AND q.fair) x;
  INSERT INTO group_turns (queue, group_key, served)
  SELECT x.queue, x.g, group_turn_unserved() FROM (
    SELECT DISTINCT a.queue, coalesce(a.group_key, '') AS g FROM added a
    JOIN queues q ON q.name = a.queue AND q.fair
    WHERE a.status IN ('waiting','scheduled')
  ) x
  ON CONFLICT (queue, group_key) DO NOTHING;
  RETURN NULL;
END $$;
