-- Job search (issue 18). The list query writes these index expressions exactly
-- as they are here (postgres/read.ts), which is what lets the planner use them.
--
-- The 8-character short id the dashboard shows: the id's last 8 characters.
-- An id prefix needs nothing new: it is a range on the primary key.
CREATE INDEX jobs_short_id ON jobs (right(id::text, 8));

-- Conditions on the payload (`where payload.customerId = 42`): the list query
-- adds `payload @> '{"customerId": 42}'` beside its exact, typed check, which
-- this index answers. jsonb_path_ops is the small GIN variant: one entry per
-- value in the payload, nothing per key.
CREATE INDEX jobs_payload ON jobs USING gin (payload jsonb_path_ops);

-- Text search in the payload and the last error's message: a trigram index,
-- when the pg_trgm extension is there or can be created. CREATE EXTENSION
-- needs privileges (pg_trgm is a trusted extension: the database owner, or
-- anyone with CREATE on the database, may add it); without it the search is
-- the same, only a scan. The extension goes in schema public, not in Docket's
-- schema, so dropping one Docket schema never drops the extension out from
-- under another's index; the operator class is named with the schema it is in.
DO $$
DECLARE
  trgm_schema name;
BEGIN
  SELECT n.nspname INTO trgm_schema
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
  IF trgm_schema IS NULL THEN
    BEGIN
      CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
      trgm_schema := 'public';
    EXCEPTION WHEN OTHERS THEN
      RAISE NOTICE 'docket: pg_trgm is not available (%); job search works without its index, more slowly', SQLERRM;
    END;
  END IF;
  IF trgm_schema IS NOT NULL THEN
    EXECUTE format(
      'CREATE INDEX jobs_search_trgm ON jobs USING gin '
      '((payload::text || chr(10) || coalesce(last_error->>''message'', '''')) %I.gin_trgm_ops)',
      trgm_schema);
  END IF;
END
$$;
