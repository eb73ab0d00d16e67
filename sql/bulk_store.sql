-- Store a chunk of validated, pseudonymised batches in ONE transaction, one statement per
-- table (service.ingest.bulk_store). Input views: bulk_batch(batch_no, school_id, school_year,
-- last_day, content_hash, enrolment_rows, absence_rows) for every batch of the chunk;
-- bulk_new(batch_no, batch_id, replaced) for the batches to store (replaced: the active batch
-- of the same school and year they replace, or NULL); clean_enrolment and clean_absence as in
-- insert_upload*.sql with a batch_no column. The same rows as insert_upload.sql,
-- insert_upload_absence.sql, pending_add.sql and replace_batch.sql write batch by batch.

-- name: earlier
SELECT n.batch_no, b.batch_id, b.content_hash, b.enrolment_rows
FROM bulk_batch n JOIN batch b
  ON b.school_id = n.school_id AND b.school_year = n.school_year AND b.status = 'active'
ORDER BY n.batch_no;

-- name: batch
INSERT INTO batch
SELECT n.batch_id, b.school_id, b.school_year, now()::TIMESTAMP, b.content_hash,
       b.enrolment_rows, b.absence_rows, 'active', NULL
FROM bulk_new n JOIN bulk_batch b USING (batch_no)
ORDER BY n.batch_id;

-- name: enrolment
INSERT INTO enrolment
SELECT n.batch_id, b.school_id, b.school_year, e.pupil_key,
       e.birth_year::SMALLINT, e.grade::SMALLINT, e.residence_municipality,
       strptime(e.enrolled_from, '%Y-%m-%d')::DATE,
       CASE WHEN trim(e.enrolled_to) = '' THEN b.last_day::DATE
            ELSE strptime(e.enrolled_to, '%Y-%m-%d')::DATE END
FROM clean_enrolment e JOIN bulk_new n USING (batch_no) JOIN bulk_batch b USING (batch_no);

-- name: absence
-- Hours become integer minutes (fixed point), as in insert_upload_absence.sql.
INSERT INTO absence
SELECT n.batch_id, b.school_id, b.school_year, a.pupil_key,
       strptime(a."date", '%Y-%m-%d')::DATE,
       round(CAST(a.hours AS DECIMAL(6, 2)) * 60)::SMALLINT,
       a.reason
FROM clean_absence a JOIN bulk_new n USING (batch_no) JOIN bulk_batch b USING (batch_no);

-- name: pending_batch
-- Each stored batch waits for the next derive of its school year (pending_add.sql).
INSERT INTO derive_pending_batch
SELECT b.school_year, n.batch_id FROM bulk_new n JOIN bulk_batch b USING (batch_no)
ORDER BY n.batch_id;

-- name: pending_replaced
-- The pupils of each replaced batch, distinct per replaced batch (replace_batch.sql).
INSERT INTO derive_pending_pupil
SELECT school_year, pupil_key FROM (
    SELECT batch_id, school_year, pupil_key FROM enrolment
    WHERE batch_id IN (SELECT replaced FROM bulk_new WHERE replaced IS NOT NULL)
    UNION
    SELECT batch_id, school_year, pupil_key FROM absence
    WHERE batch_id IN (SELECT replaced FROM bulk_new WHERE replaced IS NOT NULL));

-- name: delete_enrolment
DELETE FROM enrolment WHERE batch_id IN (SELECT replaced FROM bulk_new WHERE replaced IS NOT NULL);

-- name: delete_absence
DELETE FROM absence WHERE batch_id IN (SELECT replaced FROM bulk_new WHERE replaced IS NOT NULL);

-- name: mark_replaced
UPDATE batch SET status = 'replaced', replaced_by = n.batch_id
FROM bulk_new n WHERE batch.batch_id = n.replaced;

-- name: synthetic
-- Every batch of a folder `aanwezig synth` wrote, stored or unchanged (synthetic_batch_mark.sql).
INSERT OR IGNORE INTO synthetic_batch SELECT batch_id FROM bulk_synthetic;
