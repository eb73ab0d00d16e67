"""The privacy engine: bounded aggregates in, noisy consistent releases with error bars out.

This package imports neither FastAPI nor DuckDB. It takes plain values (integer aggregates
over public keys plus the per-pupil bounds SQL applied) and returns noisy, post-processed
results, charging a budget ledger through a narrow interface that `service/` implements.
"""
