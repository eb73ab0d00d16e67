"""Noise on integer vectors with OpenDP: discrete Gaussian (zCDP, default) and discrete Laplace (pure ε).

Privacy argument. A table is a vector of integer aggregates over a public key set, computed
by SQL with every pupil's contribution clamped to a :class:`~privacy.bounds.BoundSpec`. Its
sensitivity under add/remove of one pupil comes from :func:`privacy.bounds.sensitivity`.

* Discrete Gaussian ``N_Z(0, σ²)`` added to every cell (Canonne, Kamath & Steinke 2020,
  "The Discrete Gaussian for Differential Privacy") is ``Δ2²/(2σ²)``-zCDP. OpenDP's
  ``make_gaussian`` on ``vector_domain(atom_domain(T="i64"))`` with ``l2_distance(T="f64")``
  implements it with exact rational samplers; :func:`plan_gaussian` picks the smallest σ whose
  OpenDP privacy map at ``d_in = Δ2`` is at most ρ.
* Discrete Laplace with ``P(x) ∝ exp(-|x|/b)`` (Ghosh, Roughgarden & Sundararajan 2012) is
  ``Δ1/b``-DP; OpenDP's ``make_laplace`` with ``l1_distance(T="i64")``; :func:`plan_laplace`.

Noise is never seeded and never drawn from Python's or NumPy's generators: OpenDP samples from
OpenSSL's RNG. :func:`add_noise` re-checks the plan's privacy map against its stated budget
every time it runs, so a hand-built :class:`NoisePlan` with too small a scale is refused.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

import numpy as np

from privacy.bounds import BoundSpec, sensitivity
from privacy.budget import MICRO, Rho
from privacy.opendp_setup import opendp_prelude

Mechanism = Literal["discrete_gaussian", "discrete_laplace"]

#: Inputs must stay well inside i64 (OpenDP saturates at the limits); 2**53 also keeps every
#: aggregate exactly representable as a float for post-processing.
MAX_ABS_AGGREGATE = 2**53


class MechanismError(ValueError):
    """Base of errors raised while planning or applying noise."""


class PlanMismatchError(MechanismError):
    """A plan's scale does not deliver the budget it states (checked before any noise is drawn)."""

    def __init__(self, mechanism: str, scale: float, stated: Fraction, actual: float) -> None:
        self.mechanism, self.scale, self.stated, self.actual = mechanism, scale, stated, actual
        super().__init__(
            f"{mechanism} at scale {scale} costs {actual} by OpenDP's privacy map, "
            f"more than the {float(stated)} the plan states"
        )


class AggregateRangeError(MechanismError):
    """Input aggregates that are not integers well inside i64."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"aggregates refused: {reason}")


@dataclass(frozen=True)
class NoisePlan:
    """Which noise a table gets, at which scale, for which bound spec and budget."""

    mechanism: Mechanism
    scale: float
    spec: BoundSpec
    rho: Rho | None = None  # discrete_gaussian (zCDP)
    epsilon: Fraction | None = None  # discrete_laplace (pure DP)

    def __post_init__(self) -> None:
        if self.mechanism == "discrete_gaussian" and (self.rho is None or self.epsilon is not None):
            raise MechanismError("a discrete Gaussian plan states rho and no epsilon")
        if self.mechanism == "discrete_laplace" and (self.epsilon is None or self.rho is not None):
            raise MechanismError("a discrete Laplace plan states epsilon and no rho")
        if self.mechanism not in ("discrete_gaussian", "discrete_laplace"):
            raise MechanismError(f"unknown mechanism {self.mechanism!r}")
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise MechanismError(f"scale must be finite and positive, got {self.scale}")

    def variance(self) -> float:
        """Exact variance of the noise in one cell.

        Discrete Laplace, ``t = exp(-1/b)``: ``2t/(1-t)²``. Discrete Gaussian: the series
        ``Σ x² e^{-x²/2σ²} / Σ e^{-x²/2σ²}`` (always below σ², CKS20); for σ ≥ 10 it equals σ²
        to within a relative 1e-800 (Poisson summation), so σ² is returned.
        """
        if self.mechanism == "discrete_laplace":
            one_minus_t = -math.expm1(-1.0 / self.scale)
            t = 1.0 - one_minus_t
            return 2.0 * t / (one_minus_t * one_minus_t)
        sigma = self.scale
        if sigma >= 10.0:
            return sigma * sigma
        xs = np.arange(0, math.ceil(40 * sigma) + 2, dtype=np.float64)
        w = np.exp(-(xs * xs) / (2 * sigma * sigma))
        w[1:] *= 2.0  # ±x
        return float((xs * xs * w).sum() / w.sum())

    def half_width(self, alpha: float = 0.05) -> float:
        """OpenDP's accuracy ``a`` at level alpha: ``P(|noise| >= a) <= alpha``.

        So the open interval ``(est - a, est + a)`` — for integers, ``est ± radius(alpha)`` —
        covers the true value with probability at least ``1 - alpha``.
        """
        if not 0.0 < alpha < 1.0:
            raise MechanismError(f"alpha must be in (0, 1), got {alpha}")
        return _accuracy(self.mechanism, float(self.scale), float(alpha))

    def radius(self, alpha: float = 0.05) -> int:
        """The integer radius ``r = ceil(half_width) - 1``: ``P(|noise| <= r) >= 1 - alpha``.

        Noise is an integer, so ``|noise| < a`` is ``|noise| <= ceil(a) - 1``; the closed
        interval ``[est - r, est + r]`` is the tightest honest one OpenDP's bound gives.
        """
        return math.ceil(self.half_width(alpha)) - 1

    def budget_text(self) -> str:
        if self.rho is not None:
            return f"rho={self.rho.value}"
        return f"epsilon={self.epsilon}"


#: Above this scale OpenDP's discrete Gaussian accuracy sums the tail term by term (about
#: 30 s at σ = 5·10⁷, a minute total at one micro-ρ); `_wide_gaussian_accuracy` gives the
#: same integer from the tail's closed form.
WIDE_GAUSSIAN_SCALE = 1000.0


@functools.lru_cache(maxsize=4096)
def _accuracy(mechanism: Mechanism, scale: float, alpha: float) -> float:
    dp = opendp_prelude()
    if mechanism == "discrete_gaussian":
        if scale >= WIDE_GAUSSIAN_SCALE:
            return float(_wide_gaussian_accuracy(scale, alpha))
        return float(dp.discrete_gaussian_scale_to_accuracy(scale, alpha))
    return float(dp.discrete_laplacian_scale_to_accuracy(scale, alpha))


def _wide_gaussian_tail(a: int, sigma: float) -> float:
    """``P(|X| >= a)`` for the discrete Gaussian N_Z(0, σ²), a >= 1, σ >= 1000: the
    normaliser is σ·sqrt(2π) (Poisson summation: exact to a relative 1e-800 for σ >= 10) and
    the one-sided tail ``Σ_{x>=a} f(x)`` is, by Euler–Maclaurin, ``∫_a^∞ f + f(a)/2 −
    f′(a)/12`` plus a remainder below 1e-12 of the sum at these scales."""
    f = math.exp(-a * a / (2.0 * sigma * sigma))
    integral = sigma * math.sqrt(math.pi / 2.0) * math.erfc(a / (sigma * math.sqrt(2.0)))
    tail = integral + f / 2.0 + a * f / (12.0 * sigma * sigma)
    return 2.0 * tail / (sigma * math.sqrt(2.0 * math.pi))


def _wide_gaussian_accuracy(sigma: float, alpha: float) -> int:
    """The smallest integer a with ``P(|X| >= a) <= alpha`` (what OpenDP's
    ``discrete_gaussian_scale_to_accuracy`` returns), for σ >= `WIDE_GAUSSIAN_SCALE`."""
    from statistics import NormalDist
    a = max(1, math.floor(NormalDist().inv_cdf(1.0 - alpha / 2.0) * sigma) - 2)
    while a > 1 and _wide_gaussian_tail(a, sigma) <= alpha:
        a -= 1
    while _wide_gaussian_tail(a, sigma) > alpha:
        a += 1
    return a


def _input_space(dp: Any, mechanism: Mechanism) -> tuple[Any, Any]:
    domain = dp.vector_domain(dp.atom_domain(T="i64"))
    if mechanism == "discrete_gaussian":
        return domain, dp.l2_distance(T="f64")
    return domain, dp.l1_distance(T="i64")


def make_measurement(mechanism: Mechanism, scale: float) -> Any:
    """The OpenDP measurement for ``mechanism`` at ``scale`` on i64 vectors (no budget check)."""
    dp = opendp_prelude()
    domain, metric = _input_space(dp, mechanism)
    if mechanism == "discrete_gaussian":
        return dp.m.make_gaussian(domain, metric, scale=float(scale))
    return dp.m.make_laplace(domain, metric, scale=float(scale))


def _privacy_cost(mechanism: Mechanism, scale: float, spec: BoundSpec) -> float:
    """OpenDP's privacy map of the measurement at the sensitivity of ``spec``."""
    sens = sensitivity(spec)
    d_in = sens.l2 if mechanism == "discrete_gaussian" else sens.l1
    return float(make_measurement(mechanism, scale).map(d_in))


def _smallest_scale(mechanism: Mechanism, spec: BoundSpec, budget: Fraction, start: float) -> float:
    """Smallest float scale near ``start`` whose OpenDP privacy map is <= ``budget`` (exactly)."""

    def fits(scale: float) -> bool:
        return Fraction(_privacy_cost(mechanism, scale, spec)) <= budget

    scale, step = start, 1
    while not fits(scale):  # closed form may sit a few ulps low: move up
        scale = start + step * math.ulp(start)
        step *= 2
    for _ in range(64):  # walk down while it still fits (OpenDP rounds its map up)
        candidate = math.nextafter(scale, 0.0)
        if candidate <= 0 or not fits(candidate):
            break
        scale = candidate
    return scale


def plan_gaussian(spec: BoundSpec, rho: Rho) -> NoisePlan:
    """Discrete Gaussian plan: smallest σ with OpenDP's zCDP map at ``Δ2`` at most ``rho``.

    Closed form start ``σ = Δ2 / sqrt(2ρ)`` (CKS20), then checked and nudged against OpenDP.
    The search is deterministic in (spec, ρ), so its result is kept (a release plans some
    hundred table × level pairs from a handful of distinct ones).
    """
    if not isinstance(rho, Rho) or rho.value <= 0:
        raise MechanismError(f"a discrete Gaussian needs a positive Rho, got {rho!r}")
    return NoisePlan("discrete_gaussian", _gaussian_scale(spec, rho.value), spec, rho=rho)


@functools.lru_cache(maxsize=4096)
def _gaussian_scale(spec: BoundSpec, rho: Fraction) -> float:
    start = sensitivity(spec).l2 / math.sqrt(2 * float(rho))
    return _smallest_scale("discrete_gaussian", spec, rho, start)


def plan_laplace(spec: BoundSpec, epsilon: Fraction) -> NoisePlan:
    """Discrete Laplace plan: smallest b with OpenDP's pure-DP map at ``Δ1`` at most ``epsilon``."""
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, Fraction)) or epsilon <= 0:
        raise MechanismError(f"a discrete Laplace needs a positive exact epsilon, got {epsilon!r}")
    epsilon = Fraction(epsilon)
    start = sensitivity(spec).l1 / float(epsilon)
    scale = _smallest_scale("discrete_laplace", spec, epsilon, start)
    return NoisePlan("discrete_laplace", scale, spec, epsilon=epsilon)


def rho_for_half_width(spec: BoundSpec, half_width: float, alpha: float = 0.05) -> Rho:
    """Accuracy first: the budget (whole micro-ρ, rounded up) whose discrete Gaussian plan has
    ``half_width(alpha) <= half_width``. More ρ means less noise, so rounding up is safe both
    for the accuracy promised and for the ledger (which charges whole micro-units anyway).
    """
    if not (math.isfinite(half_width) and half_width >= 1.0):
        raise MechanismError(f"half_width must be a finite number >= 1, got {half_width}")
    dp = opendp_prelude()
    scale = float(dp.accuracy_to_discrete_gaussian_scale(float(half_width), float(alpha)))
    l2 = sensitivity(spec).l2
    micro = max(1, math.ceil(Fraction(l2) ** 2 / (2 * Fraction(scale) ** 2) * MICRO))
    step = 1
    while plan_gaussian(spec, Rho.from_micro(micro)).half_width(alpha) > half_width:
        micro += step
        step *= 2
    return Rho.from_micro(micro)


def _as_i64(values: Sequence[int] | np.ndarray) -> np.ndarray:
    """The aggregates as a contiguous int64 buffer (handed to OpenDP as it is, without a
    Python list), after checking they are integers with ``|v| <= 2**53``."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise AggregateRangeError(f"expected a 1-d vector, got shape {arr.shape}")
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if np.issubdtype(arr.dtype, np.integer):
        if int(arr.min()) < -MAX_ABS_AGGREGATE or int(arr.max()) > MAX_ABS_AGGREGATE:
            raise AggregateRangeError("values must satisfy |v| <= 2**53")
        return np.ascontiguousarray(arr, dtype=np.int64)
    if arr.dtype != object:
        raise AggregateRangeError(f"expected integers, got dtype {arr.dtype}")
    out = arr.tolist()
    if any(isinstance(v, bool) or not isinstance(v, int) for v in out):
        raise AggregateRangeError("values must be integers")
    if any(abs(v) > MAX_ABS_AGGREGATE for v in out):
        raise AggregateRangeError("values must satisfy |v| <= 2**53")
    return np.asarray(out, dtype=np.int64)


def checked_measurement(plan: NoisePlan) -> Any:
    """The OpenDP measurement for ``plan`` after checking its privacy map against its budget."""
    stated = plan.rho.value if plan.rho is not None else plan.epsilon
    meas = make_measurement(plan.mechanism, plan.scale)
    sens = sensitivity(plan.spec)
    actual = float(meas.map(sens.l2 if plan.mechanism == "discrete_gaussian" else sens.l1))
    if Fraction(actual) > stated:
        raise PlanMismatchError(plan.mechanism, plan.scale, stated, actual)
    return meas


def add_noise(values: Sequence[int] | np.ndarray, plan: NoisePlan) -> np.ndarray:
    """Release ``values`` (true integer aggregates of one table) with the noise of ``plan``.

    Returns an int64 array of the same length. The true values are not kept or logged. The
    vector goes to OpenDP's sampler in one call, as an int64 buffer (OpenDP 0.16 reads a
    numpy array directly; a Python list costs a conversion per cell).
    """
    data = _as_i64(values)
    meas = checked_measurement(plan)
    if not data.size:
        return np.zeros(0, dtype=np.int64)
    return np.asarray(meas(data), dtype=np.int64)
