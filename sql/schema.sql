-- Aanwezig database schema. One DuckDB file holds the public register, the private
-- pupil-level tables (never leave the database), the derived per-pupil summaries,
-- the budget ledger and the release store.
-- Conventions: time in integer minutes (fixed point; hours × 60), dates as DATE,
-- codes as CBS/DUO-style strings. Every statement is idempotent.

-- ── Public register ────────────────────────────────────────────────────────────
-- Areas at every level. Several hierarchies share the same schools:
--   municipality → province → country;  rmc → country;  swv_po → country;  swv_vo → country.
CREATE TABLE IF NOT EXISTS area (
    level        VARCHAR NOT NULL,   -- country | province | municipality | rmc | swv_po | swv_vo
    code         VARCHAR NOT NULL,   -- NL | PV27 | GM0363 | MC21 | PO2701 | VO2701
    name         VARCHAR NOT NULL,
    parent_level VARCHAR,
    parent_code  VARCHAR,
    PRIMARY KEY (level, code)
);

-- School locations (vestigingen). Public, as in DUO's open school lists.
CREATE TABLE IF NOT EXISTS school (
    school_id          VARCHAR PRIMARY KEY,  -- BRIN (2 digits + 2 letters) + 2-digit vestiging: 12AB00
    name               VARCHAR NOT NULL,
    sector             VARCHAR NOT NULL,     -- PO | SBO | SO | VSO | VO
    municipality_code  VARCHAR NOT NULL,
    province_code      VARCHAR NOT NULL,
    rmc_code           VARCHAR NOT NULL,
    swv_code           VARCHAR NOT NULL,     -- PO… for PO/SBO/SO, VO… for VO/VSO
    holiday_region     VARCHAR NOT NULL      -- noord | midden | zuid
);

-- Minutes of teaching per school day, by sector (PO 5 h, VO 6 h).
CREATE TABLE IF NOT EXISTS sector_day (
    sector       VARCHAR PRIMARY KEY,
    day_minutes  INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS school_year (
    school_year  VARCHAR PRIMARY KEY,   -- '2025-2026'
    first_day    DATE NOT NULL,         -- 1 August
    last_day     DATE NOT NULL          -- 31 July
);

-- School days per holiday region. day_index counts school days from 1; week_index counts
-- school weeks (weeks with at least one school day) from 1.
CREATE TABLE IF NOT EXISTS calendar_day (
    school_year    VARCHAR NOT NULL,
    holiday_region VARCHAR NOT NULL,
    day            DATE NOT NULL,
    day_index      INTEGER NOT NULL,
    week_index     INTEGER NOT NULL,
    iso_year       INTEGER NOT NULL,
    iso_week       INTEGER NOT NULL,
    PRIMARY KEY (school_year, holiday_region, day)
);

-- ── Private: uploads (pupil level; never leave the database) ──────────────────
CREATE SEQUENCE IF NOT EXISTS batch_seq START 1;

CREATE TABLE IF NOT EXISTS batch (
    batch_id       BIGINT PRIMARY KEY,
    school_id      VARCHAR NOT NULL,
    school_year    VARCHAR NOT NULL,
    received_at    TIMESTAMP NOT NULL,
    content_hash   VARCHAR NOT NULL,     -- sha256 over the canonical content of the files
    enrolment_rows INTEGER NOT NULL,
    absence_rows   INTEGER NOT NULL,
    status         VARCHAR NOT NULL,     -- active | replaced
    replaced_by    BIGINT
);

-- pupil_key: HMAC-SHA256 of the national pupil number under the service's key (hex).
CREATE TABLE IF NOT EXISTS enrolment (
    batch_id       BIGINT NOT NULL,
    school_id      VARCHAR NOT NULL,
    school_year    VARCHAR NOT NULL,
    pupil_key      VARCHAR NOT NULL,
    birth_year     SMALLINT NOT NULL,
    grade          SMALLINT NOT NULL,
    residence_code VARCHAR NOT NULL,
    enrolled_from  DATE NOT NULL,
    enrolled_to    DATE NOT NULL
);

CREATE TABLE IF NOT EXISTS absence (
    batch_id       BIGINT NOT NULL,
    school_id      VARCHAR NOT NULL,
    school_year    VARCHAR NOT NULL,
    pupil_key      VARCHAR NOT NULL,
    day            DATE NOT NULL,
    minutes        SMALLINT NOT NULL,
    reason         VARCHAR NOT NULL      -- sick | authorised | unauthorised | late | suspended
);

-- Batches ingested from a folder that `aanwezig synth` wrote (its marker file at the root):
-- `aanwezig evaluate`, which shows true values, runs only when every active batch of the
-- school year is listed here. Real uploads (HTTP, `aanwezig ingest` of files) never are.
CREATE TABLE IF NOT EXISTS synthetic_batch (
    batch_id  BIGINT PRIMARY KEY
);

-- What the next derive of a school year must redo (service.ingest.derive.rederive): batches
-- stored since the derived tables were last written, and the pupils of batches replaced since
-- then (their rows are gone from enrolment and absence, so their keys are kept here). Written
-- in the upload's own transaction; the derive deletes the rows it has seen in the transaction
-- that writes the derived rows, so an upload committed meanwhile stays pending.
CREATE TABLE IF NOT EXISTS derive_pending_batch (
    school_year  VARCHAR NOT NULL,
    batch_id     BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS derive_pending_pupil (
    school_year  VARCHAR NOT NULL,
    pupil_key    VARCHAR NOT NULL
);

-- The once-a-year weekly stream (new_long_term, docs/weekly.md "Frozen weeks"): the school
-- week in which each pupil was counted, fixed when that week was computed for release. A
-- pupil listed here is never counted in another week, whatever later corrections do; one who
-- first reaches four fully absent weeks inside an already released week is counted in the
-- week being released instead (corrections flow into later weeks only).
-- Keyed by the pupil_tag of pupil_week (sql/derive_tables.sql); databases keyed by the
-- 64-character pupil key are moved over at connect (sql/pupil_tag_upgrade.sql).
CREATE TABLE IF NOT EXISTS pupil_long_term_counted (
    school_year  VARCHAR NOT NULL,
    pupil_tag    VARCHAR NOT NULL,
    week_index   INTEGER NOT NULL,
    PRIMARY KEY (school_year, pupil_tag)
);
