-- Finding a job by the 8-character short id the dashboard shows: the id's last
-- 8 characters (characters 29 to 36 of the 36). The list query writes the same
-- expression, substr(id, 29), so SQLite uses this index. An id prefix uses the
-- primary key; text in the payload or the error is a scan (docs/benchmarks.md).
CREATE INDEX jobs_short_id ON jobs (substr(id, 29));
