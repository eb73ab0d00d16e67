"""The Python client for notebooks: `Aanwezig` talks to a running service over HTTP and returns
tables as pandas frames. It imports nothing else of the service, so it can be used on its own."""

from service.client.session import Aanwezig, ServiceError

__all__ = ["Aanwezig", "ServiceError"]
