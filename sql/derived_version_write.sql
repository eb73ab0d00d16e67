-- Record which active batches the derived tables of $school_year were built from (inside the
-- derive transaction, so rows and version commit together), and the derive code and bounds
-- they were built with ($derive_code). Batch ids only, no pupil data.
INSERT OR REPLACE INTO derived_version BY NAME
SELECT $school_year AS school_year,
       sha256(coalesce(string_agg(CAST(batch_id AS VARCHAR), ',' ORDER BY batch_id), ''))
           AS batches_hash,
       count(*) AS batches,
       now()::TIMESTAMP AS derived_at,
       $derive_code AS derive_code
FROM batch
WHERE school_year = $school_year AND status = 'active';
