-- The pupils of chunk $chunk of sql/pupil_chunks.sql are the scope of the next pass.
CREATE OR REPLACE TEMP TABLE d_scope AS
SELECT pupil_key FROM d_chunk WHERE chunk = $chunk;
