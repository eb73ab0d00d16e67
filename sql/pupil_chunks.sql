-- A full DuckDB derive in chunks (service.ingest.derive.rebuild): after sql/derive_prepare.sql
-- ran for every pupil (enrolments only), d_chunk numbers each pupil's chunk: the schools in
-- school_id order, cut into runs of about $chunk_pupils pupils by MAIN school. Every chunk is
-- then derived on its own (pupils and their batches: sql/pupil_chunk_scope.sql), so memory
-- follows the chunk, and the rows of a chunk's main schools lie together in the derived
-- tables (what sql/derive_clear.sql's school filter reads).
CREATE OR REPLACE TEMP TABLE d_chunk AS
WITH per_school AS (
    SELECT school_id, count(*) AS pupils FROM d_pupil GROUP BY school_id
), numbered AS (
    SELECT school_id,
           (coalesce(sum(pupils) OVER (ORDER BY school_id ROWS BETWEEN UNBOUNDED PRECEDING
                                        AND 1 PRECEDING), 0) // $chunk_pupils)::INTEGER AS chunk
    FROM per_school
)
SELECT p.pupil_key, n.chunk FROM d_pupil p JOIN numbered n USING (school_id);
