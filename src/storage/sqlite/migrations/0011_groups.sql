-- Groups (issue 14): a job's group (a tenant, a user), a queue's limit of
-- active jobs per group, fair turns between groups, a rate limit per group,
-- and a queue option that makes a job's group default to its owner.
ALTER TABLE jobs ADD COLUMN group_key TEXT;
ALTER TABLE queues ADD COLUMN group_concurrency INTEGER CHECK (group_concurrency IS NULL OR group_concurrency > 0);
ALTER TABLE queues ADD COLUMN fair INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queues ADD COLUMN group_by_owner INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queues ADD COLUMN rate_per TEXT CHECK (rate_per IS NULL OR rate_per = 'group');

-- Starts of a rate limit per group are counted per group ('' for jobs without one).
ALTER TABLE rate_limit_starts ADD COLUMN group_key TEXT NOT NULL DEFAULT '';
CREATE INDEX rate_limit_starts_group ON rate_limit_starts (queue, group_key, at);

-- When each group of a fair queue was last served: the least recently served goes first.
CREATE TABLE group_turns (
  queue TEXT NOT NULL REFERENCES queues (name) ON DELETE CASCADE,
  group_key TEXT NOT NULL,
  served INTEGER NOT NULL,
  PRIMARY KEY (queue, group_key)
);
