"""Background work of the serving process: one writer thread that derives after an upload
commits, publishes the scheduled weekly releases and the standard release (`writer`), the job
rows that make that work visible and resumable after a crash (`records`), and the schedule of
the weekly release (`schedule`). The API layer starts the writer; this room may import
`compare`, `weekly`, `evaluation`, `releases`, `ingest` and below, never `service.api`."""
