-- Record batch $batch_id as synthetic test data (ingested from a folder aanwezig synth wrote).
INSERT OR IGNORE INTO synthetic_batch VALUES ($batch_id);
