-- Derived per-pupil tables (docs/architecture.md). Rebuilt per school year by
-- service.derive.rebuild; created empty here so that readers never meet a missing table.
CREATE TABLE IF NOT EXISTS pupil_year (
    school_year            VARCHAR,
    pupil_key              VARCHAR,
    school_id              VARCHAR,
    sector                 VARCHAR,
    grade                  SMALLINT,
    grade_band             VARCHAR,
    residence_code         VARCHAR,
    birth_year             SMALLINT,
    possible_minutes       INTEGER,
    absent_minutes         INTEGER,
    sick_minutes           INTEGER,
    authorised_minutes     INTEGER,
    unauthorised_minutes   INTEGER,
    late_minutes           INTEGER,
    suspended_minutes      INTEGER,
    longest_absent_run     INTEGER,
    long_term              BOOLEAN,
    signal16               BOOLEAN,
    signal16_weeks         INTEGER,
    chronic                BOOLEAN,
    severe                 BOOLEAN,
    band                   TINYINT,
    n_schools              INTEGER
);
-- One row per pupil and school week; pupil_tag (macro pupil_tag below) instead of the
-- 64-character key: writing the key for every pupil-week was half of a full derive. Pupils
-- sharing a tag are one pupil to the weekly series (sql/weekly_leaf_totals.sql clamps per tag:
-- a pupil's contribution stays within the bounds) and are derived together.
CREATE TABLE IF NOT EXISTS pupil_week (
    school_year            VARCHAR,
    pupil_tag              VARCHAR,
    week_index             INTEGER,
    iso_year               INTEGER,
    iso_week               INTEGER,
    school_id              VARCHAR,
    sector                 VARCHAR,
    possible_minutes       INTEGER,
    absent_minutes         INTEGER,
    unauthorised_minutes   INTEGER
);
-- One row per pupil and calendar month with a possible school day (no pupil key: see
-- sql/derive_pupil_month.sql); school, grade band and residence are the pupil's of the year.
-- pupil_tag: the first 16 characters of the pupil key (macro pupil_tag), so that an
-- incremental derive can delete a pupil's months; pupils sharing a tag are derived together.
CREATE TABLE IF NOT EXISTS pupil_month (
    school_year            VARCHAR,
    pupil_tag              VARCHAR,
    month                  VARCHAR,     -- 'YYYY-MM', a month of the public calendar
    school_id              VARCHAR,
    grade_band             VARCHAR,
    residence_code         VARCHAR,
    possible_minutes       INTEGER,
    absent_minutes         INTEGER,
    sick_minutes           INTEGER,
    authorised_minutes     INTEGER,
    unauthorised_minutes   INTEGER,
    late_minutes           INTEGER,
    suspended_minutes      INTEGER,
    chronic                BOOLEAN,
    severe                 BOOLEAN,
    band                   TINYINT
);
-- The short pupil identity of pupil_week and pupil_month rows (see above) and of the weekly
-- series' frozen weeks (pupil_long_term_counted): 64 bits of the HMAC key.
CREATE OR REPLACE MACRO pupil_tag(pupil_key) AS left(pupil_key, 16);
-- The absence thresholds of the catalogue (docs/catalogue.md), one definition for the yearly
-- and the monthly tables: chronic >= 10 %, severe >= 50 %, bands 0-5, 5-10, 10-20, 20-50,
-- >= 50 % of possible minutes (integer arithmetic, no rounding).
CREATE OR REPLACE MACRO is_chronic(absent, possible) AS absent * 10 >= possible;
CREATE OR REPLACE MACRO is_severe(absent, possible) AS absent * 2 >= possible;
CREATE OR REPLACE MACRO absence_band(absent, possible) AS
    (CASE WHEN absent * 20 < possible THEN 0
          WHEN absent * 10 < possible THEN 1
          WHEN absent * 5 < possible THEN 2
          WHEN absent * 2 < possible THEN 3
          ELSE 4 END)::TINYINT;
-- The data version of each school year's derived tables: the set of active batches derive
-- read (their ids, hashed), written in the same transaction as the rows. Part of every
-- release's request identity (service/releases/identity.py). derive_code: a hash of the derive
-- SQL and bounds that wrote the rows (service.ingest.derive.derive_code).
CREATE TABLE IF NOT EXISTS derived_version (
    school_year   VARCHAR PRIMARY KEY,
    batches_hash  VARCHAR NOT NULL,
    batches       INTEGER NOT NULL,
    derived_at    TIMESTAMP NOT NULL,
    derive_code   VARCHAR
);
