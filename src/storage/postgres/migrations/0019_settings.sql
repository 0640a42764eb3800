-- Settings of a Docket database that code outside Docket's processes reads.
-- add_job, called from the application's own SQL, cannot see the options a
-- process opened Docket with: Docket.open({ maxPayloadBytes }) records its
-- limit here as max_payload_bytes, and add_job refuses larger payloads (1 MiB
-- when nothing is recorded). PostgreSQL only: SQLite has no add_job.
CREATE TABLE settings (
  name text PRIMARY KEY,
  value jsonb NOT NULL,
  updated_at timestamptz NOT NULL
);
