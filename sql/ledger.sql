-- Budget ledger and release store. Applied on open by service.db.connect and by
-- service.releases.ledger_store.DuckDBLedger; every statement is idempotent.
-- Budgets are integers of micro-rho (1 micro = 1e-6 zCDP rho); spending rounds up.
-- Code paths only ever INSERT cap rows, change cap_micro, and raise spent_micro with a
-- conditional UPDATE (spent_micro + charge <= cap_micro); nothing lowers spent_micro and
-- nothing updates or deletes a release or an event.

-- One row per scope: the global cap of a dataset (pool = '', principal = ''), a pool
-- (principal = ''), or a principal's allowance inside a pool.
CREATE TABLE IF NOT EXISTS budget_cap (
    dataset      VARCHAR NOT NULL,            -- school year, e.g. '2025-2026'
    scope        VARCHAR NOT NULL,            -- global | pool | principal
    pool         VARCHAR NOT NULL DEFAULT '', -- standard | weekly | researcher ('' for global)
    principal    VARCHAR NOT NULL DEFAULT '', -- researcher id ('' unless scope = principal)
    cap_micro    BIGINT  NOT NULL CHECK (cap_micro >= 0),
    spent_micro  BIGINT  NOT NULL DEFAULT 0 CHECK (spent_micro >= 0),
    PRIMARY KEY (dataset, scope, pool, principal)
);

-- Immutable releases, stored in the same transaction as their charge.
CREATE TABLE IF NOT EXISTS release (
    release_id      VARCHAR PRIMARY KEY,
    request_hash    VARCHAR NOT NULL UNIQUE,  -- canonical request hash: a repeat finds it here
    dataset         VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,
    spec_json       VARCHAR NOT NULL,
    payload         BLOB    NOT NULL,         -- canonical JSON of the noisy cells etc.
    content_hash    VARCHAR NOT NULL,
    signature       BLOB    NOT NULL,
    created_at      TIMESTAMP NOT NULL,       -- UTC
    service_version VARCHAR NOT NULL,
    micro           BIGINT  NOT NULL CHECK (micro >= 0),
    parquet         BLOB                      -- release.parquet exactly as signed (NULL: stored
                                              -- before it was kept; rebuilt from the payload)
);

-- Databases made before release.parquet was kept get the column, NULL in their old releases.
ALTER TABLE release ADD COLUMN IF NOT EXISTS parquet BLOB;

-- Append-only audit log: every charge (who spent what, when, for which request) and every
-- cap change.
CREATE SEQUENCE IF NOT EXISTS budget_event_seq START 1;

CREATE TABLE IF NOT EXISTS budget_event (
    event_id      BIGINT PRIMARY KEY DEFAULT nextval('budget_event_seq'),
    logged_at     TIMESTAMP NOT NULL,         -- UTC
    kind          VARCHAR NOT NULL,           -- charge | cap
    dataset       VARCHAR NOT NULL,
    scope         VARCHAR,                    -- for cap events
    pool          VARCHAR,
    principal     VARCHAR,
    micro         BIGINT NOT NULL,            -- charged micro-rho, or the new cap
    request_hash  VARCHAR,
    release_id    VARCHAR
);
