-- The data version of $school_year's derived tables (no row: never derived).
SELECT batches_hash, batches FROM derived_version WHERE school_year = $school_year;
