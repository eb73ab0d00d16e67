"""What the tests share: tiny datasets, one way to start a server, one free port, paths.

Imported as `support.<module>` (tests/conftest.py puts tests/ on the path); fixtures that
several tiers use are registered in the conftest.py of those tiers. No test module imports
another test module."""
