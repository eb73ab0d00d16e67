-- d_scope_batch: the active batches of $school_year holding an enrolment of a pupil in scope
-- (d_scope: sql/pending_scope.sql or sql/pupil_chunk_scope.sql). Absence rows need no other
-- batch: an absence is accepted only for a pupil enrolled in the same batch
-- (sql/validate_absence.sql), so these batches hold every absence of the pupils in scope.
CREATE OR REPLACE TEMP TABLE d_scope_batch AS
SELECT DISTINCT e.batch_id FROM enrolment e
WHERE e.school_year = $school_year AND e.pupil_key IN (SELECT pupil_key FROM d_scope);
