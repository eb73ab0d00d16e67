"""Everything that turns bounded per-pupil tables into published, signed releases: the statistics
catalogue (`catalogue`, measures and their bound specs), the true aggregates over public keys
(`aggregate`, SQL from `sql/`), the standard release (`standard`: leaf totals in, one
call to `privacy.release.noisy_tables`, `cells` out), ad-hoc queries (`queries`), the release store and ledger storage (`store`,
`ledger_store`), downloadable files, subsets per area, signatures and offline verification of a download
(`files`, `subsets`, `signing`, `verification`). Noise comes only from `privacy/`. May import `service.ingest`, `service.register`,
`service.settings`, `service.db`, `privacy` and `sql`; never the HTTP layer: a storage write
announces itself by bumping a counter in `service.db`."""
