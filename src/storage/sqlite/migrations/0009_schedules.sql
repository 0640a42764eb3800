-- Schedules (issue 14): cron or interval, run by the maintenance leader.
-- tick_cursor: ticks at or before it were handled (the latest tick, or when
-- the schedule started or was resumed). next_run_at: the first tick after it,
-- NULL while paused, so the leader finds due schedules by an index.
CREATE TABLE schedules (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  owner TEXT,
  cron TEXT,
  every_ms INTEGER,
  timezone TEXT,
  queue TEXT NOT NULL,
  type TEXT NOT NULL,
  payload TEXT,
  options TEXT NOT NULL DEFAULT '{}',
  catch_up TEXT NOT NULL CHECK (catch_up IN ('none','latest','all')),
  overlap TEXT NOT NULL CHECK (overlap IN ('allow','skip')),
  enabled INTEGER NOT NULL DEFAULT 1,
  tick_cursor INTEGER NOT NULL,
  next_run_at INTEGER,
  last_run_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  CHECK ((cron IS NULL) <> (every_ms IS NULL))
);
-- A schedule's name is unique per owner: a user's names never collide with another user's.
CREATE UNIQUE INDEX schedules_owner_name ON schedules (coalesce(owner, ''), name);
CREATE INDEX schedules_due ON schedules (next_run_at) WHERE enabled = 1 AND next_run_at IS NOT NULL;

-- One row per run: a tick (unique per schedule and tick time, so a tick makes
-- its job once whoever runs it) or a run asked for by hand.
CREATE TABLE schedule_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  schedule_id TEXT NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
  tick_at INTEGER NOT NULL,
  manual INTEGER NOT NULL DEFAULT 0,
  job_id TEXT,
  skipped INTEGER NOT NULL DEFAULT 0,
  reason TEXT,
  created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX schedule_runs_tick ON schedule_runs (schedule_id, tick_at) WHERE manual = 0;
CREATE INDEX schedule_runs_recent ON schedule_runs (schedule_id, id);
