-- Queue rate limits (issue 14): at most rate_max jobs of the queue start in
-- any window of rate_interval_ms, across every worker. A sliding window log:
-- one row per start inside the window, written by the claim that started the
-- job, pruned by the next claim of that queue.
ALTER TABLE queues ADD COLUMN rate_max INTEGER CHECK (rate_max IS NULL OR rate_max > 0);
ALTER TABLE queues ADD COLUMN rate_interval_ms INTEGER CHECK (rate_interval_ms IS NULL OR rate_interval_ms > 0);

CREATE TABLE rate_limit_starts (
  queue TEXT NOT NULL REFERENCES queues (name) ON DELETE CASCADE,
  at INTEGER NOT NULL
);
CREATE INDEX rate_limit_starts_window ON rate_limit_starts (queue, at);
