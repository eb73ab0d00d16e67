"""Swagger UI 5.36.0 (npm package swagger-ui-dist, Apache-2.0: LICENSE.txt, NOTICE.txt),
vendored: the interactive API docs at /v1/docs load nothing from any other origin."""
