-- Before a derive of $school_year writes: the derived rows of the pupils in scope go — every
-- row of the year with $every_pupil, else the rows of the pupils of d_scope (pupil_week and
-- pupil_month: by their pupil_tag; sql/pending_scope.sql put every pupil behind those tags in
-- d_scope).
-- d_scope_school: the main schools of those pupils' current rows (pupil_year.school_id, which
-- every pupil_week and pupil_month row of the pupil repeats). It changes nothing about which
-- rows go, but DuckDB checks it against each row group's smallest and largest school_id, so a
-- school's re-upload reads only the row groups that can hold its pupils: a full DuckDB derive
-- writes the year in chunks of main schools (service.ingest.derive).
CREATE OR REPLACE TEMP TABLE d_scope_school AS
SELECT DISTINCT school_id FROM pupil_year
WHERE school_year = $school_year AND NOT $every_pupil
  AND pupil_key IN (SELECT pupil_key FROM d_scope);

DELETE FROM pupil_month
WHERE school_year = $school_year
  AND ($every_pupil OR (school_id IN (SELECT school_id FROM d_scope_school)
                        AND pupil_tag IN (SELECT pupil_tag(pupil_key) FROM d_scope)));

DELETE FROM pupil_week
WHERE school_year = $school_year
  AND ($every_pupil OR (school_id IN (SELECT school_id FROM d_scope_school)
                        AND pupil_tag IN (SELECT pupil_tag(pupil_key) FROM d_scope)));

-- (pupil_year.school_id is the main school d_scope_school was read from: the same rows go)
DELETE FROM pupil_year
WHERE school_year = $school_year
  AND ($every_pupil OR (school_id IN (SELECT school_id FROM d_scope_school)
                        AND pupil_key IN (SELECT pupil_key FROM d_scope)));
