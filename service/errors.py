"""The one exception tree of the service: every error a caller may see is a `ServiceError`
whose class carries its HTTP status, problem type and title, and whose message is public
(it names fields, rows, years, weeks, areas and budgets; never pupil data).

From it derive, without a table per place:
- the problem+json answer (`service.api.problems`: status, ``urn:aanwezig:problem:<slug>``,
  title, `detail`, `errors`, extensions);
- the CLI's ``refused:`` lines (`public`);
- the error text the writer thread stores on a failed job (`public`).

A domain error subclasses the branch it belongs to where it is raised (e.g.
`register.dimensions.CatalogueError(InvalidInput, ValueError)`), keeping its own message;
`detail` (the problem's sentence) defaults to that message. The one error from below the
service, `privacy.ledger.BudgetExhausted` (the privacy engine imports nothing of the
service), is translated once, here (`translate`). Any other exception is internal: a bare
500, and "internal error (<class>)" on a job.

    ServiceError                  status  type (urn:aanwezig:problem:…)
    ├── InvalidInput               400    invalid-input
    │   └── InvalidUpload          400    invalid-upload
    ├── NotAuthenticated           401    not-authenticated
    ├── Forbidden                  403    forbidden
    ├── NotFound                   404    not-found
    ├── Conflict                   409    conflict
    │   └── BudgetRefused          409    budget-exhausted
    └── InternalError              500    internal-error
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from privacy.ledger import BudgetExhausted

TYPE_PREFIX = "urn:aanwezig:problem:"


class ServiceError(Exception):
    """An error whose message may be shown. `message` is `str(exc)` (CLI, job rows);
    `detail` the problem's sentence (default: the message); `errors` the list of
    ``{in, field, message}`` problems (kept as `field_errors`); `headers` and `extensions` go to the HTTP answer."""

    status: int = 500
    slug: str = "internal-error"
    title: str = "Internal error"

    def __init__(self, message: str | None = None, *, detail: str | None = None,
                 errors: Iterable[dict[str, Any]] = (), headers: dict[str, str] | None = None,
                 **extensions: Any) -> None:
        self.detail = detail if detail is not None else message
        self.field_errors = list(errors)
        self.headers = dict(headers or {})
        self.extensions = extensions
        super().__init__(message or self.title)

    @property
    def type(self) -> str:
        return TYPE_PREFIX + self.slug

    @property
    def public(self) -> str:
        """The message as the CLI prints it and a failed job shows it."""
        return str(self)

    def body(self, instance: str) -> dict[str, Any]:
        """The problem+json body (RFC 9457)."""
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status,
                                "detail": self.detail or self.title, "instance": instance}
        if self.field_errors:
            body["errors"] = self.field_errors
        body.update(self.extensions)
        return body


class InvalidInput(ServiceError):
    status, slug, title = 400, "invalid-input", "Invalid input"


class InvalidUpload(InvalidInput):
    slug, title = "invalid-upload", "Invalid upload; nothing was stored"


class NotAuthenticated(ServiceError):
    status, slug, title = 401, "not-authenticated", "Not authenticated"


class Forbidden(ServiceError):
    status, slug, title = 403, "forbidden", "Forbidden"


class NotFound(ServiceError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(ServiceError):
    status, slug, title = 409, "conflict", "Conflict"


class BudgetRefused(Conflict):
    """The privacy budget cannot pay for a release (`privacy.ledger.BudgetExhausted`)."""

    slug, title = "budget-exhausted", "Privacy budget exhausted"


class InternalError(ServiceError):
    pass


_SCOPE_WORDS = {"principal": "your allowance", "pool": "the pool it is paid from",
                "global": "the school year's cap", "lifetime": "the cap across school years"}


def _rho(micro: int) -> str:
    return f"{micro / 1_000_000:.6f}".rstrip("0").rstrip(".") or "0"


def translate(exc: BaseException) -> ServiceError | None:
    """`exc` as a ServiceError if its message is public: itself, or the translation of an
    error from below the service; None for anything else (internal)."""
    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, BudgetExhausted):
        words = _SCOPE_WORDS.get(exc.scope, exc.scope)
        text = (f"This costs ρ {_rho(exc.requested_micro)}, but {words}"
                f"{' for ' + exc.dataset if exc.dataset else ''} has ρ "
                f"{_rho(exc.remaining_micro)} left; nothing was spent.")
        return BudgetRefused(
            text, detail=text, scope=exc.scope, requested_rho_micro=exc.requested_micro,
            remaining_rho_micro=exc.remaining_micro, requested_rho=exc.requested_micro / 1e6,
            remaining_rho=exc.remaining_micro / 1e6)
    return None


#: Every exception class whose message is public (for ``except PUBLIC as exc``).
PUBLIC: tuple[type[BaseException], ...] = (ServiceError, BudgetExhausted)


def public(exc: BaseException) -> str:
    """What a caller may be told about `exc`: its public message, or that it was internal."""
    known = translate(exc)
    return known.public if known is not None else f"internal error ({type(exc).__name__})"
