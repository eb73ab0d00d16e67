-- A school's new batch replaces its earlier one, in the same transaction as the insert:
-- the earlier batch's pupils are kept for the next derive (sql/pending_scope.sql: they may
-- lose rows or move school), the earlier batch's rows go, and the batch is marked replaced by
-- the new one.
INSERT INTO derive_pending_pupil
SELECT DISTINCT school_year, pupil_key FROM enrolment WHERE batch_id = $replaced
UNION
SELECT DISTINCT school_year, pupil_key FROM absence WHERE batch_id = $replaced;
DELETE FROM enrolment WHERE batch_id = $replaced;
DELETE FROM absence WHERE batch_id = $replaced;
UPDATE batch SET status = 'replaced', replaced_by = $batch_id WHERE batch_id = $replaced;
