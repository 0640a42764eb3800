-- group_turns_lock_key
-- SQLite twin: none (SQLite has one writer at a time, so an add and a claim never overlap).
-- The advisory lock (two-key form, class 0x444b4754 'DKGT') an add holds shared on its queue.
CREATE OR REPLACE FUNCTION group_turns_lock_key(p_queue text) RETURNS int LANGUAGE sql IMMUTABLE AS $$
  SELECT hashtext(current_schema() || '/' || p_queue)
$$;
