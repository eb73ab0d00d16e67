"""The budget ledger: its rules and the narrow interface that `service/` implements.

Budget is kept per dataset (a school year) in zCDP ρ, as integers of micro-ρ (1 micro =
10⁻⁶ ρ); a charge is rounded *up* to whole micro-units, so the ledger never records less than
was spent. Scopes, all of which a charge must fit at once:

    global     one cap per dataset, over everything
    pool       `standard` (the yearly standard release), `weekly` (the weekly series) and
               `researcher` (ad-hoc queries)
    principal  inside a pool (always inside `researcher`): one allowance per researcher

Because every charge also counts against its pool and the global cap, researchers who
collude (or one researcher with several keys) cannot together spend more than the pool or
the dataset's total: by sequential composition of zCDP (Bun and Steinke 2016, Lemma 2.3) the
privacy loss of everything released from a dataset is at most the sum of its charges, which
the global cap bounds.

The implementation (`service.releases.ledger_store.DuckDBLedger`) must write a charge atomically with
a condition that it fits (no read-then-write), in the same transaction that stores the
release, before anything is returned; a repeated request (same canonical request hash)
returns the stored release and costs nothing; spending is never lowered (no refunds). This
module imports no database code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from privacy.budget import MICRO, BudgetError, Rho


__all__ = [
    "MICRO_PER_RHO",
    "POOLS",
    "SCOPES",
    "BudgetExhausted",
    "BudgetRow",
    "CapKey",
    "Charge",
    "InvalidCharge",
    "Ledger",
    "LedgerBusy",
    "ReleaseRecord",
    "StoredRelease",
    "cap_keys",
    "micro_from_rho",
]

MICRO_PER_RHO = MICRO
POOLS: tuple[str, ...] = ("standard", "weekly", "researcher")
SCOPES: tuple[str, ...] = ("global", "pool", "principal")
Scope = Literal["global", "pool", "principal"]


class InvalidCharge(ValueError):
    """A charge, cap or release record that breaks the ledger's rules."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class BudgetExhausted(BudgetError):
    """The charge does not fit in `scope`; nothing was charged or stored."""

    def __init__(
        self,
        scope: str,
        requested_micro: int,
        remaining_micro: int,
        *,
        dataset: str = "",
        pool: str | None = None,
        principal: str | None = None,
    ) -> None:
        self.scope = scope
        self.requested_micro = requested_micro
        self.remaining_micro = remaining_micro
        self.dataset = dataset
        self.pool = pool
        self.principal = principal
        super().__init__(
            f"budget exhausted in scope {scope!r} of dataset {dataset!r}: requested "
            f"{requested_micro} micro-rho, {remaining_micro} remaining"
        )


class LedgerBusy(BudgetError):
    """The ledger kept conflicting with concurrent writers; nothing was charged."""

    def __init__(self, attempts: int) -> None:
        self.attempts = attempts
        super().__init__(f"ledger transaction conflicted {attempts} times; nothing was charged")


def micro_from_rho(rho: Rho) -> int:
    """ρ as whole micro-units, rounded up (spending never rounds down).

    >>> micro_from_rho(Rho.of("1/3"))
    333334
    """
    return rho.to_micro_ceil()


@dataclass(frozen=True)
class CapKey:
    """One budget row: the global cap, a pool, or a principal's allowance within a pool."""

    dataset: str
    scope: Scope
    pool: str | None = None
    principal: str | None = None

    def __post_init__(self) -> None:
        if not self.dataset:
            raise InvalidCharge("dataset is required")
        if self.scope == "global":
            ok = self.pool is None and self.principal is None
        elif self.scope == "pool":
            ok = self.pool in POOLS and self.principal is None
        elif self.scope == "principal":
            ok = self.pool in POOLS and bool(self.principal)
        else:
            ok = False
        if not ok:
            raise InvalidCharge(f"invalid budget scope {self.scope!r} (pool={self.pool!r}, principal={self.principal!r})")


@dataclass(frozen=True)
class Charge:
    """Spending `micro` micro-ρ of `dataset` from `pool` (and `principal`'s allowance)."""

    dataset: str
    pool: str
    principal: str | None
    micro: int
    request_hash: str

    def __post_init__(self) -> None:
        if not self.dataset:
            raise InvalidCharge("dataset is required")
        if self.pool not in POOLS:
            raise InvalidCharge(f"unknown pool {self.pool!r}; pools are {', '.join(POOLS)}")
        if self.pool == "researcher" and not self.principal:
            raise InvalidCharge("a researcher-pool charge needs the researcher (principal)")
        if not isinstance(self.micro, int) or isinstance(self.micro, bool) or self.micro <= 0:
            raise InvalidCharge("a charge is a positive whole number of micro-rho")
        if not self.request_hash:
            raise InvalidCharge("request_hash is required")


def cap_keys(charge: Charge) -> tuple[CapKey, ...]:
    """Every budget row a charge must fit, narrowest first: the principal's allowance (if
    any), the pool, the global cap."""
    keys = [CapKey(charge.dataset, "pool", charge.pool), CapKey(charge.dataset, "global")]
    if charge.principal:
        keys.insert(0, CapKey(charge.dataset, "principal", charge.pool, charge.principal))
    return tuple(keys)


@dataclass(frozen=True)
class ReleaseRecord:
    """An immutable, signed release as stored next to its charge."""

    release_id: str
    request_hash: str
    dataset: str
    kind: str
    spec_json: str
    payload: bytes  # canonical JSON of the cells etc.
    content_hash: str
    signature: bytes
    created_at: datetime
    service_version: str
    micro: int
    # release.parquet exactly as signed: its bytes depend on the Parquet writer's version, so
    # it is kept, not rebuilt. None for releases stored before it was kept (rebuilt then).
    parquet: bytes | None = None


@dataclass(frozen=True)
class StoredRelease:
    """A release as read back from the store; `newly_charged` is False for a repeat."""

    record: ReleaseRecord
    newly_charged: bool


@dataclass(frozen=True)
class BudgetRow:
    """One cap row: how much may be spent and how much has been."""

    key: CapKey
    cap_micro: int
    spent_micro: int

    @property
    def remaining_micro(self) -> int:
        return max(self.cap_micro - self.spent_micro, 0)


class Ledger(Protocol):
    """What the privacy engine needs from persistent budget storage."""

    def set_cap(self, dataset: str, scope: Scope, pool: str | None, principal: str | None, micro: int) -> None:
        """Create or change a cap (never touches what has been spent)."""

    def remaining(self, dataset: str, pool: str | None = None, principal: str | None = None) -> dict[str, int]:
        """Micro-ρ remaining per scope (`global`, and `pool` / `principal` when given);
        a scope without a cap row has 0 remaining."""

    def find_release(self, request_hash: str) -> StoredRelease | None:
        """The stored release for a request, if it was answered before."""

    def charge_and_store(self, charge: Charge, release: ReleaseRecord) -> StoredRelease:
        """Atomically: return the stored release if the request was answered before (no
        charge); otherwise charge every scope with the condition that it fits and store the
        release, or raise BudgetExhausted and change nothing."""
