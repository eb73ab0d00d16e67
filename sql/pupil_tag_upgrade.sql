-- Databases made before pupil_week and pupil_long_term_counted were keyed by pupil_tag (the
-- first 16 characters of the pupil key, sql/derive_tables.sql) hold the 64-character
-- pupil_key there. service.db.connect runs the statements of a table that still has it, in one
-- transaction; a database already moved over has no such column and nothing runs.

-- name: keyed_tables
SELECT table_name FROM duckdb_columns()
WHERE database_name = current_database() AND schema_name = 'main'
  AND table_name IN ('pupil_week', 'pupil_long_term_counted') AND column_name = 'pupil_key'
ORDER BY table_name;

-- The derived rows keep their values; only the key becomes the tag (the derive code changed
-- with it, so the next derive of each year rebuilds it in full: derived_version.derive_code).
-- name: pupil_week
CREATE OR REPLACE TABLE pupil_week AS
SELECT school_year, left(pupil_key, 16) AS pupil_tag, week_index, iso_year, iso_week, school_id,
       sector, possible_minutes, absent_minutes, unauthorised_minutes
FROM pupil_week;

-- Frozen weeks: a tag is counted in the earliest week any of its pupils was (two pupils
-- sharing a tag are one pupil to the weekly series from now on).
-- name: counted_create
CREATE TABLE pupil_long_term_counted_tagged (
    school_year  VARCHAR NOT NULL,
    pupil_tag    VARCHAR NOT NULL,
    week_index   INTEGER NOT NULL,
    PRIMARY KEY (school_year, pupil_tag)
);
-- name: counted_copy
INSERT INTO pupil_long_term_counted_tagged
SELECT school_year, left(pupil_key, 16), min(week_index)
FROM pupil_long_term_counted GROUP BY ALL;
-- name: counted_drop
DROP TABLE pupil_long_term_counted;
-- name: counted_rename
ALTER TABLE pupil_long_term_counted_tagged RENAME TO pupil_long_term_counted;
