-- The weekly series' plan per school year, fixed when the first week is released and never
-- changed afterwards (so a later week cannot change what an earlier week spent): the number
-- of weeks T of the tree and the weekly pool's rho in micro-rho. Idempotent.
CREATE TABLE IF NOT EXISTS weekly_plan (
    school_year  VARCHAR PRIMARY KEY,
    weeks        INTEGER NOT NULL CHECK (weeks BETWEEN 1 AND 128),
    rho_micro    BIGINT  NOT NULL CHECK (rho_micro > 0),
    created_at   TIMESTAMP NOT NULL
);
