"""A slim client for the Aanwezig API (httpx, pandas and cryptography only)."""

from aanwezig_client.session import Aanwezig, ServiceError, summary
from aanwezig_client.verify import VerificationError, verify

__all__ = ["Aanwezig", "ServiceError", "VerificationError", "summary", "verify"]
