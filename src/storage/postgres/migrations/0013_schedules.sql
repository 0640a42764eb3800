-- Schedules (issue 14): cron or interval, run by the maintenance leader.
-- tick_cursor: ticks at or before it were handled (the latest tick, or when
-- the schedule started or was resumed). next_run_at: the first tick after it,
-- NULL while paused, so the leader finds due schedules by an index.
CREATE TABLE schedules (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  owner text,
  cron text,
  every_ms bigint,
  timezone text,
  queue text NOT NULL,
  type text NOT NULL,
  payload jsonb,
  options jsonb NOT NULL DEFAULT '{}',
  catch_up text NOT NULL CHECK (catch_up IN ('none','latest','all')),
  overlap text NOT NULL CHECK (overlap IN ('allow','skip')),
  enabled boolean NOT NULL DEFAULT true,
  tick_cursor timestamptz(3) NOT NULL,
  next_run_at timestamptz(3),
  last_run_at timestamptz(3),
  created_at timestamptz(3) NOT NULL,
  updated_at timestamptz(3) NOT NULL,
  CHECK ((cron IS NULL) <> (every_ms IS NULL))
);
-- A schedule's name is unique per owner: a user's names never collide with another user's.
CREATE UNIQUE INDEX schedules_owner_name ON schedules (coalesce(owner, ''), name);
CREATE INDEX schedules_due ON schedules (next_run_at) WHERE enabled AND next_run_at IS NOT NULL;

-- One row per run: a tick (unique per schedule and tick time, so a tick makes
-- its job once whoever runs it) or a run asked for by hand.
CREATE TABLE schedule_runs (
  id bigserial PRIMARY KEY,
  schedule_id uuid NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
  tick_at timestamptz(3) NOT NULL,
  manual boolean NOT NULL DEFAULT false,
  job_id uuid,
  skipped boolean NOT NULL DEFAULT false,
  reason text,
  created_at timestamptz(3) NOT NULL
);
CREATE UNIQUE INDEX schedule_runs_tick ON schedule_runs (schedule_id, tick_at) WHERE NOT manual;
CREATE INDEX schedule_runs_recent ON schedule_runs (schedule_id, id);
