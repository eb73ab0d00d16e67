"""Aanwezig: differentially private school-attendance statistics for the Netherlands.

`service/` holds everything that touches HTTP, DuckDB, files and the command line.
It never adds noise itself: that is `privacy/`'s job.
"""

__version__ = "0.1.0"
