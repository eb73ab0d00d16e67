-- The pupils an incremental derive of $school_year redoes (service.ingest.derive.rederive;
-- DuckDB only): every pupil of a pending batch (stored since the last derive) and every pupil
-- of a batch replaced since then (derive_pending_pupil). All their derived rows are recomputed
-- from ALL their active data, at every school: a pupil who moved keeps one main school.

-- d_touched: the pupils the pending uploads name. A pending batch's enrolment rows name all of
-- them: an absence is accepted only for a pupil enrolled in the same batch
-- (sql/validate_absence.sql), so the absence table is not read. A semi join (IN), not a
-- join: DuckDB then filters the scan by the pending batch ids' range and skips the row groups
-- that cannot hold them (rows lie in batch order).
CREATE OR REPLACE TEMP TABLE d_touched AS
SELECT pupil_key FROM derive_pending_pupil WHERE school_year = $school_year
UNION
SELECT e.pupil_key FROM enrolment e
WHERE e.school_year = $school_year
  AND e.batch_id IN (SELECT batch_id FROM derive_pending_batch WHERE school_year = $school_year);

-- d_scope: those pupils and every pupil of the year who shares a pupil_tag with one of them:
-- pupil_week and pupil_month rows carry the tag, not the key, so they are deleted by tag and
-- every pupil behind a deleted tag is derived again (a pupil without enrolment rows has no
-- derived rows, or is in d_touched).
CREATE OR REPLACE TEMP TABLE d_scope AS
SELECT pupil_key FROM d_touched
UNION
SELECT e.pupil_key FROM enrolment e
WHERE e.school_year = $school_year
  AND pupil_tag(e.pupil_key) IN (SELECT pupil_tag(pupil_key) FROM d_touched);
