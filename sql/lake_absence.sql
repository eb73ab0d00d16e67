-- One stored batch's absence rows for the Parquet lake (service/ingest/lake.py): the same
-- pseudonymised rows as the absence table; school year and school are the partition folders.
SELECT batch_id, pupil_key, day, minutes, reason
FROM absence
WHERE batch_id = $batch_id
