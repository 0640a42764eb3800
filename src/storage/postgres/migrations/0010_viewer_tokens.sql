-- Read-only, expiring tokens for watching one job (POST /jobs/{id}/viewer-token).
-- Only the token's hash is stored. No foreign key to jobs: a token of a deleted
-- job finds no job, and job deletes do not pay for a look-up here.
CREATE TABLE viewer_tokens (
  token_hash text PRIMARY KEY,
  job_id uuid NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  expires_at timestamptz(3) NOT NULL
);
CREATE INDEX viewer_tokens_expiry ON viewer_tokens (expires_at);
