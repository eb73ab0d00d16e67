"""Fixtures of the system tests: keyed databases (as the API tests) and a database for a
service started as a process."""

from support.api_client import client, keyed_template, keys, settings  # noqa: F401  (fixtures)
from support.live_server import database  # noqa: F401  (fixture)
