-- A school's new batch replaces its earlier one, in the same transaction as the insert:
-- the earlier batch's rows go, and the batch is marked replaced by the new one.
DELETE FROM enrolment WHERE batch_id = $replaced;
DELETE FROM absence WHERE batch_id = $replaced;
UPDATE batch SET status = 'replaced', replaced_by = $batch_id WHERE batch_id = $replaced;
