"""The HTTP service: the app factory (`app`), one route module per resource (`routes/`), the ASGI
layers in front of them (`middleware/`), and what routes share: API keys (`auth`), the role
matrix (`roles`), problem+json errors (`problems`), pagination, dependencies (`deps`) and the
in-memory read caches with their invalidation (`read_cache`). May import every domain room
(`compare`, `weekly`, `evaluation`, `releases`, `ingest`, `register`) and below; middleware calls
domain functions and the shared modules here, never a route module."""

PREFIX = "/v1"
"""Major version in the path (Dutch API Design Rules). Routers carry it themselves, so a
route's own path is its full path (the role matrix is keyed by it)."""


def job_link(job_id: int) -> str:
    """Where a job's state is read (GET /v1/jobs/{job_id})."""
    return f"{PREFIX}/jobs/{job_id}"
