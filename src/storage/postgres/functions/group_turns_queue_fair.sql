-- group_turns_queue_fair
-- SQLite twin: the trigger queues_group_turns_fair in src/storage/sqlite/migrations/0012_fair_claim_by_group.sql.
-- A queue turned fair: the groups it has waiting get their turns.
CREATE OR REPLACE FUNCTION group_turns_queue_fair() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO group_turns (queue, group_key, served)
  SELECT NEW.name, x.g, group_turn_unserved() FROM (
    SELECT DISTINCT coalesce(group_key, '') AS g FROM jobs
    WHERE queue = NEW.name AND status IN ('waiting','scheduled')
  ) x
  ON CONFLICT (queue, group_key) DO NOTHING;
  RETURN NULL;
END $$;
