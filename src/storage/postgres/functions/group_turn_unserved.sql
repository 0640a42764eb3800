-- group_turn_unserved
-- SQLite twin: the turn numbers of the triggers in src/storage/sqlite/migrations/0012_fair_claim_by_group.sql.
-- A turn number for a group that has not been served: below every served one, in order of arrival.
CREATE OR REPLACE FUNCTION group_turn_unserved() RETURNS bigint LANGUAGE sql VOLATILE AS $$
  SELECT nextval('group_turn_seq') - 4611686018427387904
$$;
