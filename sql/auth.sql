-- API keys. Only a keyed hash of each secret is stored (HMAC-SHA256 under a key derived from
-- the service's AANWEZIG_HMAC_KEY), so a copy of the database does not yield usable keys.
-- Times are UTC. Roles: school (scope = school id), researcher (scope = researcher id), region
-- (scope = 'level:code'), policy and admin (no scope). Revoked keys stay for the record.
-- expires_at (UTC, optional): from then on the key is refused like a revoked one.
CREATE TABLE IF NOT EXISTS api_key (
    key_id      VARCHAR PRIMARY KEY,
    key_hash    VARCHAR NOT NULL UNIQUE,
    role        VARCHAR NOT NULL
                CHECK (role IN ('school', 'researcher', 'region', 'policy', 'admin')),
    scope       VARCHAR,
    label       VARCHAR NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    revoked_at  TIMESTAMP,
    expires_at  TIMESTAMP
);

-- A database made before keys could expire gains the column (NULL: no expiry).
ALTER TABLE api_key ADD COLUMN IF NOT EXISTS expires_at TIMESTAMP;
