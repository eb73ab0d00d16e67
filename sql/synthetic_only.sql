-- Whether $school_year has active batches and all of them are synthetic: (active, not marked).
SELECT count(*), count(*) FILTER (WHERE batch_id NOT IN (SELECT batch_id FROM synthetic_batch))
FROM batch
WHERE school_year = $school_year AND status = 'active';
