"""ASGI layers in front of the routes: the body-size limit, security headers, the public-answer
cache and the repeated-query shortcut. They call domain functions and `service.api`'s shared
modules (auth, roles, read caches); they never import a route module."""
