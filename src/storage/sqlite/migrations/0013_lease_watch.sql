-- Leases judged by elapsed time, not by another process's clock (issue 33):
-- every claim and heartbeat records the lease's length (lease_ms) and counts
-- one more beat (lease_beats), so a process that watches a lease sees it
-- change each time its holder extends it, and knows how long it lasts.
-- A maintenance pass recovers a lease only after it has seen it unchanged for
-- that long by its own monotonic clock (core/lease-watch.ts). Rows leased by
-- a Docket before this migration have no lease_ms: they are judged by the
-- wall clock, as before, until their next claim or heartbeat.
ALTER TABLE jobs ADD COLUMN lease_ms INTEGER;
ALTER TABLE jobs ADD COLUMN lease_beats INTEGER NOT NULL DEFAULT 0;
