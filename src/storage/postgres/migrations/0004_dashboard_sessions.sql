CREATE TABLE sessions (
  id_hash text PRIMARY KEY,
  key_id text NOT NULL REFERENCES api_keys(id),
  csrf_token text NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  expires_at timestamptz(3) NOT NULL
);
CREATE INDEX sessions_key ON sessions (key_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);
