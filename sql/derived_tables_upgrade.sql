-- Columns added to the derived tables after databases were made (DuckDB only; no-ops
-- otherwise). pupil_month.pupil_tag is NULL in rows derived before it existed, and
-- derived_version.derive_code is NULL for years derived before it: an incremental derive
-- refuses such a year and rebuilds it in full (sql/derived_incremental_ready.sql).
ALTER TABLE pupil_month ADD COLUMN IF NOT EXISTS pupil_tag VARCHAR;
ALTER TABLE derived_version ADD COLUMN IF NOT EXISTS derive_code VARCHAR;
