-- group_turns_ready
-- SQLite twin: the trigger jobs_group_turns_ready in src/storage/sqlite/migrations/0012_fair_claim_by_group.sql.
-- A job back to waiting or scheduled (retry, lease recovery, promote, unblocked, snooze, retried by hand).
CREATE OR REPLACE FUNCTION group_turns_ready() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM queues WHERE name = NEW.queue AND fair) THEN
    PERFORM pg_advisory_xact_lock_shared(1145784148, group_turns_lock_key(NEW.queue));
    INSERT INTO group_turns (queue, group_key, served)
    VALUES (NEW.queue, coalesce(NEW.group_key, ''), group_turn_unserved())
    ON CONFLICT (queue, group_key) DO NOTHING;
  END IF;
  RETURN NULL;
END $$;
