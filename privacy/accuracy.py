"""Error bars: intervals for noisy cells and for ratios of two noisy totals.

Everything here is post-processing of noisy values plus the public noise distribution, so it
costs no privacy. Rates and means are ratios of two noisy integer totals; no float noise is
ever added to a ratio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from privacy.mechanisms import NoisePlan


class AccuracyError(ValueError):
    """Arguments that cannot define an interval (negative half-width, alpha outside (0, 1))."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class CellInterval:
    """A noisy integer cell with its closed interval ``[lower, upper]`` at level ``1 - alpha``."""

    estimate: int
    lower: int
    upper: int
    alpha: float

    @property
    def includes_zero(self) -> bool:
        return self.lower <= 0 <= self.upper


def cell_interval(estimate: int, plan: NoisePlan, alpha: float = 0.05) -> CellInterval:
    """``[estimate - r, estimate + r]`` with ``r = plan.radius(alpha)``.

    Honest for the raw noisy cell: ``P(|noise| <= r) >= 1 - alpha`` by OpenDP's accuracy bound.
    Not for post-processed (e.g. consistency-adjusted) cells, which need their own variance.
    """
    r = plan.radius(alpha)
    return CellInterval(int(estimate), int(estimate) - r, int(estimate) + r, alpha)


@dataclass(frozen=True)
class RatioInterval:
    """An estimate of ``num/den`` and a conservative interval for it.

    ``estimate`` is ``None`` when the noisy denominator is not positive. ``lower``/``upper``
    may be infinite when the denominator's interval reaches zero (the data cannot bound the
    ratio); ``bounded`` says whether both ends are finite.
    """

    estimate: float | None
    lower: float
    upper: float

    @property
    def bounded(self) -> bool:
        return math.isfinite(self.lower) and math.isfinite(self.upper)


def ratio_interval(
    num_est: float,
    num_half: float,
    den_est: float,
    den_half: float,
    clip: tuple[float, float] | None = None,
) -> RatioInterval:
    """Conservative interval for ``num/den`` from intervals of the two noisy totals.

    Coverage: pass half-widths at level ``1 - alpha/2`` each (e.g. ``plan.half_width(0.025)``
    for a 95% ratio interval). If the numerator lies in ``[num_est ± num_half]`` and the
    denominator in ``[den_est ± den_half]`` — jointly with probability ``>= 1 - alpha`` by the
    union bound, whatever the dependence — then the true ratio lies in the returned interval,
    which is the range of ``n/d`` over that box (its corners, as ``d > 0``). If the
    denominator interval reaches zero, the ratio is unbounded on that side.

    ``clip``: a public range the true ratio always lies in (``(0, 1)`` for a rate with
    numerator <= denominator per pupil); clamping both ends into it keeps the coverage, and
    the returned interval always satisfies ``c_lo <= lower <= upper <= c_hi``.

    >>> r = ratio_interval(50, 10, 200, 10)
    >>> (round(r.lower, 4), r.estimate, round(r.upper, 4))
    (0.1905, 0.25, 0.3158)
    """
    for name, half in (("num_half", num_half), ("den_half", den_half)):
        if not (half >= 0 and math.isfinite(half)):
            raise AccuracyError(f"{name} must be finite and >= 0, got {half}")
    estimate = num_est / den_est if den_est > 0 else None
    n_lo, n_hi = num_est - num_half, num_est + num_half
    d_lo, d_hi = den_est - den_half, den_est + den_half
    if d_hi <= 0:
        lower, upper = -math.inf, math.inf
    elif d_lo <= 0:
        # d ranges over (0, d_hi]: n/d runs to ±inf wherever n can have that sign
        lower = -math.inf if n_lo < 0 else (n_lo / d_hi)
        upper = math.inf if n_hi > 0 else (n_hi / d_hi)
    else:
        corners = (n_lo / d_lo, n_lo / d_hi, n_hi / d_lo, n_hi / d_hi)
        lower, upper = min(corners), max(corners)
    if clip is not None:
        # Clamp each end into the public range rather than intersecting: when the box misses
        # the range entirely (an event of probability <= alpha, since the truth lies in both)
        # intersecting would give lower > upper; clamping keeps c_lo <= lower <= upper <= c_hi
        # and cannot lower the coverage of the box event.
        c_lo, c_hi = clip
        lower, upper = min(max(lower, c_lo), c_hi), min(max(upper, c_lo), c_hi)
        if estimate is not None:
            estimate = min(max(estimate, c_lo), c_hi)
    return RatioInterval(estimate, lower, upper)


def ratio_interval_for_plans(
    num_est: int,
    num_plan: NoisePlan,
    den_est: int,
    den_plan: NoisePlan,
    alpha: float = 0.05,
    clip: tuple[float, float] | None = None,
) -> RatioInterval:
    """:func:`ratio_interval` with each total's integer radius at level ``1 - alpha/2``."""
    if not 0.0 < alpha < 1.0:
        raise AccuracyError(f"alpha must be in (0, 1), got {alpha}")
    return ratio_interval(
        num_est, num_plan.radius(alpha / 2), den_est, den_plan.radius(alpha / 2), clip=clip
    )
