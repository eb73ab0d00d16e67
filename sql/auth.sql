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

-- The statements of service/api/auth.py.

-- name: insert_key
INSERT INTO api_key (key_id, key_hash, role, scope, label, created_at, expires_at)
VALUES ($key_id, $key_hash, $role, $scope, $label, $created_at, $expires_at);

-- name: key_exists
SELECT 1 FROM api_key WHERE key_id = $key_id;

-- name: other_active_admins
SELECT count(*) FROM api_key
WHERE role = 'admin' AND key_id <> $key_id AND revoked_at IS NULL
  AND (expires_at IS NULL OR expires_at > $now);

-- name: revoke
UPDATE api_key SET revoked_at = $now WHERE key_id = $key_id AND revoked_at IS NULL;

-- name: list_keys
SELECT key_id, role, scope, label, created_at, revoked_at, expires_at
FROM api_key ORDER BY created_at, key_id;

-- name: key_by_hash
SELECT key_id, role, scope, label, created_at, expires_at
FROM api_key WHERE key_hash = $key_hash AND revoked_at IS NULL;

