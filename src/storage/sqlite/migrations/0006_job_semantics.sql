-- Every attempt of a job (core/attempts.ts): a claim opens one (outcome
-- 'running', no finished_at); whatever ends the lease closes it. seq counts a
-- job's attempt rows from 1; `attempt` is the job's attempt count then (a
-- released or snoozed attempt is not counted, so its number comes again).
-- Rows go with their job.
CREATE TABLE job_attempts (
  job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  worker_id TEXT,
  started_at INTEGER,
  finished_at INTEGER,
  outcome TEXT NOT NULL,
  error TEXT,
  PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;
