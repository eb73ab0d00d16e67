"""The files of sql/ that the engines run, for the engine and transpile tests."""

#: Every file of sql/ the engines run (derive and the aggregation); the test below checks that
#: no such file is missing here, and the fixtures run each of them on Spark.
ENGINE_FILES = {"derive_tables", "derive_scope_every", "derive_clear", "derive_prepare",
                "derive_absences", "derive_pupil_year", "derive_pupil_week",
                "derive_pupil_month", "derived_row_counts", "aggregate_contributions",
                "aggregate_month_contributions", "aggregate_leaf", "aggregate_grouped",
                "months_missing"}
