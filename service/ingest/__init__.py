"""From a school's files to the bounded per-pupil tables. `batches` parses and validates an upload
(naming file, row and field), pseudonymises pupil numbers with the keyed HMAC and stores the
batch in one transaction (all or nothing, replacing the school's earlier batch); `directory`
ingests a folder of schools; `derive` rebuilds `pupil_year`, `pupil_week` and `pupil_month` with
every value clamped by the SQL in `sql/` to the per-pupil bounds declared in `bounds`. May import
`service.register`, `service.settings`, `service.db`, `privacy` and `sql`."""
