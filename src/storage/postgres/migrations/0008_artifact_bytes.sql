-- Artifact bytes kept in the database, so that every server on it can serve
-- every file. A blob is one file: its row is written first (stored_at NULL),
-- then its chunks of at most 1 MiB one statement each, then stored_at with
-- the size and hash: only then does it hold the bytes. A blob left unfinished
-- by a process that died mid-upload is deleted, with its chunks, by the next
-- upload a day later (blobs_unfinished).
CREATE TABLE artifact_blobs (
  storage_key text PRIMARY KEY,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  stored_at timestamptz(3),
  size bigint,
  sha256 text
);
CREATE INDEX artifact_blobs_unfinished ON artifact_blobs (created_at) WHERE stored_at IS NULL;

CREATE TABLE artifact_chunks (
  storage_key text NOT NULL REFERENCES artifact_blobs(storage_key) ON DELETE CASCADE,
  seq integer NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (storage_key, seq)
);
-- Out of line and uncompressed: most uploads (PDF, PNG, JPEG, ZIP) are compressed already,
-- and compressing them again costs CPU for nothing.
ALTER TABLE artifact_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
