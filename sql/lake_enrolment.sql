-- One stored batch's enrolment rows for the Parquet lake (service/ingest/lake.py): the same
-- pseudonymised rows as the enrolment table; school year and school are the partition folders.
SELECT batch_id, pupil_key, birth_year, grade, residence_code, enrolled_from, enrolled_to
FROM enrolment
WHERE batch_id = $batch_id
