"""The one place that switches on OpenDP features.

OpenDP keeps its optional features in a process-global set: enabling one anywhere enables it
everywhere. This service needs exactly one, ``"contrib"`` (the vetted-but-not-yet-certified
constructors such as ``make_gaussian`` and ``make_laplace`` on integer vectors). It must never
run with ``"honest-but-curious"`` (which admits user-written privacy maps) or
``"idealized-numerics"`` / ``"floating-point"`` (which admits float samplers that are open to
floating-point attacks, Mironov 2012).

Every module of ``privacy/`` that builds an OpenDP object gets the prelude from
:func:`opendp_prelude`, which enables ``"contrib"`` on first use and refuses to hand out the
library if a forbidden feature has been switched on by anything else in the process.
"""

from __future__ import annotations

import types

import opendp.mod
import opendp.prelude

REQUIRED_FEATURES: tuple[str, ...] = ("contrib",)
FORBIDDEN_FEATURES: frozenset[str] = frozenset(
    {"honest-but-curious", "idealized-numerics", "floating-point"}
)


class ForbiddenFeatureError(RuntimeError):
    """An OpenDP feature that the release path must not run with is enabled in this process."""

    def __init__(self, features: frozenset[str]) -> None:
        self.features = features
        super().__init__(
            "OpenDP features enabled that the release path forbids: " + ", ".join(sorted(features))
        )


def enabled_features() -> frozenset[str]:
    """The OpenDP features currently enabled in this process."""
    return frozenset(opendp.mod.GLOBAL_FEATURES)


def check_features() -> None:
    """Raise :class:`ForbiddenFeatureError` if a forbidden feature is on."""
    bad = enabled_features() & FORBIDDEN_FEATURES
    if bad:
        raise ForbiddenFeatureError(bad)


def opendp_prelude() -> types.ModuleType:
    """Return ``opendp.prelude`` with exactly the features this service needs enabled.

    Cheap enough to call on every use: it re-checks the global feature set each time, so a
    forbidden feature switched on later (by a notebook, a plugin, a test) is caught before
    the next measurement is built.
    """
    if not set(REQUIRED_FEATURES) <= enabled_features():
        opendp.prelude.enable_features(*REQUIRED_FEATURES)
    check_features()
    return opendp.prelude
