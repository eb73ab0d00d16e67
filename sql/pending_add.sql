-- A stored batch waits for the next derive of its school year (in the upload's transaction).
INSERT INTO derive_pending_batch VALUES ($school_year, $batch_id);
