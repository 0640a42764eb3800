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

-- Expiry (core/expiry.ts): a job not started by expires_at is never run. The
-- claim skips it; the maintenance sweep finds it through this index, which
-- holds only jobs that can expire.
ALTER TABLE jobs ADD COLUMN expires_at INTEGER;
CREATE INDEX jobs_expiring ON jobs (expires_at)
  WHERE expires_at IS NOT NULL AND status IN ('waiting','scheduled','blocked','held');

-- Dependency types (core/dependencies.ts): 'success' waits for the upstream
-- job to complete and fails with it; 'completion' waits until it is final,
-- whatever its outcome. A batch's `then` job depends on the whole batch with
-- 'completion'; the batch remembers it.
ALTER TABLE job_dependencies ADD COLUMN type TEXT NOT NULL DEFAULT 'success'
  CHECK (type IN ('success','completion'));
ALTER TABLE batches ADD COLUMN then_job_id TEXT;

-- Dedupe with a TTL (core/dedupe.ts): a job with the key that finished within
-- the TTL still holds it. Only finished jobs with a key are in this index.
CREATE INDEX jobs_dedupe_finished ON jobs (queue, coalesce(owner, ''), dedupe_key, finished_at)
  WHERE dedupe_key IS NOT NULL AND status IN ('completed','failed','cancelled');
