-- Record which active batches the derived tables of $school_year were built from (inside the
-- derive transaction, so rows and version commit together). Batch ids only, no pupil data.
INSERT OR REPLACE INTO derived_version
SELECT $school_year,
       sha256(coalesce(string_agg(CAST(batch_id AS VARCHAR), ',' ORDER BY batch_id), '')),
       count(*),
       now()::TIMESTAMP
FROM batch
WHERE school_year = $school_year AND status = 'active';
