-- Read-only, expiring tokens for watching one job (POST /jobs/{id}/viewer-token).
-- Only the token's hash is stored. No foreign key to jobs: a token of a deleted
-- job finds no job, and job deletes do not pay for a look-up here.
CREATE TABLE viewer_tokens (
  token_hash TEXT PRIMARY KEY,
  job_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX viewer_tokens_expiry ON viewer_tokens (expires_at);
