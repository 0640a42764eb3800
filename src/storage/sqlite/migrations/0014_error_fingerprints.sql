-- Error fingerprints (core/fingerprint.ts): a job's last_error carries the
-- class of its error as `fingerprint`, and listJobs({ fingerprint }) finds
-- every job of a class (the top errors link there; bulk actions act on it).
-- Only rows with an error are in the index. Errors stored before this
-- migration have no stored fingerprint: the API computes theirs on read, but
-- the filter does not find them.
CREATE INDEX jobs_error_fingerprint ON jobs (json_extract(last_error, '$.fingerprint'))
  WHERE last_error IS NOT NULL;
