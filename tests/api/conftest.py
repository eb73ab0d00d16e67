"""The HTTP tests' fixtures: a database copied from a keyed template, the app under TestClient."""

from support.api_client import client, keyed_template, keys, settings  # noqa: F401  (fixtures)
