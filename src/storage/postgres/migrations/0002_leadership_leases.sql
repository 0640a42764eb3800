
CREATE TABLE leader_leases (
  name text PRIMARY KEY,
  holder text NOT NULL,
  term bigint NOT NULL,
  expires_at timestamptz(3) NOT NULL
);
