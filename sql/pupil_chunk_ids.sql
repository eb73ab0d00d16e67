-- The chunks of sql/pupil_chunks.sql, in order (numbers only).
SELECT DISTINCT chunk FROM d_chunk ORDER BY chunk;
