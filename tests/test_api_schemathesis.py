"""Property-based checks of the whole API against its own OpenAPI document (schemathesis),
with a valid admin key and a valid school key: no 5xx, responses conform to the schema.
Kept small (few examples per operation) so it stays fast."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance,
                                               response_schema_conformance,
                                               status_code_conformance)

from api_fixtures import keys, settings  # noqa: F401  (fixtures)
from service.api.app import create_app

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.mark.slow
@pytest.mark.parametrize("principal", ["admin", "school"])
def test_api_conforms_to_its_openapi_document(settings, keys, principal):
    app = create_app(settings)
    secret = getattr(keys, principal)
    with TestClient(app):  # runs the lifespan: the app's database connection is open
        schema = schemathesis.openapi.from_asgi("/v1/openapi.json", app)
        failures, operations = [], 0
        for result in schema.get_all_operations():
            operation = result.ok()
            operations += 1

            @hypothesis_settings(max_examples=15, deadline=None, database=None,
                                 suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy())
            def check(case):
                case.headers = {**(case.headers or {}), "X-API-Key": secret}
                response = case.call()
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.path}: {response.status_code}")
                # Not positive_data_acceptance: a schema-valid key spec can still name a
                # school that is not in the register (400 by design).
                case.validate_response(response, checks=CHECKS)

            check()
        assert operations >= 8
        assert not failures, failures
