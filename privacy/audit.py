"""Empirical privacy audit: a statistically valid LOWER bound on the ε a mechanism really has.

Method (Jagielski, Ullman & Oprea 2020; Nasr et al. 2021; Tramèr et al. 2022). Run the
mechanism many times on two neighbouring datasets ``a`` and ``b`` (one cell's true value
differing by one pupil's bounded contribution). An (ε, δ)-DP mechanism satisfies, for every
event ``S``, ``P_a(S) <= e^ε P_b(S) + δ`` and the same with ``a``, ``b`` swapped, so

    ε >= ln((P_a(S) - δ) / P_b(S)).

With Clopper–Pearson bounds (exact binomial, via ``scipy.stats.beta``) — a lower bound on
``P_a(S)`` and an upper bound on ``P_b(S)`` — this is a lower bound on ε that holds with the
stated confidence. Events are the threshold sets ``{X >= t}`` and ``{X < t}`` for a grid of
thresholds fixed *before* looking at the outputs; every (event, direction) pair gets level
``alpha / (2m)`` for each of its two bounds (Bonferroni over ``m`` pairs), so the maximum over
all of them is a lower bound on the true ε with probability at least ``1 - alpha``.

If the lower bound exceeds the ε a mechanism claims, the claim is false (up to probability
alpha). For the discrete Gaussian, the claim checked is the exact (ε, δ) of the one-cell
discrete Gaussian (:func:`discrete_gaussian_epsilon`, from its privacy-loss distribution as in CKS20), which is tighter than —
never above — the ε OpenDP derives from its ρ, so the audit is stricter than the service's claim.

This module draws noise only through the mechanism under audit; it adds none itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.stats import beta

from privacy.mechanisms import NoisePlan, add_noise

Sampler = Callable[[int, int], np.ndarray]


@dataclass(frozen=True)
class AuditResult:
    """Outcome of one audit: the ε lower bound, the claim it was held against, and the event."""

    epsilon_lower: float
    claimed_epsilon: float
    delta: float
    draws: int
    confidence: float
    event: str

    @property
    def violated(self) -> bool:
        return self.epsilon_lower > self.claimed_epsilon


def clopper_pearson_lower(k: int, n: int, alpha: float) -> float:
    """One-sided ``1 - alpha`` lower confidence bound on a binomial p from k successes of n."""
    return 0.0 if k == 0 else float(beta.ppf(alpha, k, n - k + 1))


def clopper_pearson_upper(k: int, n: int, alpha: float) -> float:
    """One-sided ``1 - alpha`` upper confidence bound on a binomial p from k successes of n."""
    return 1.0 if k == n else float(beta.ppf(1 - alpha, k + 1, n - k))


def epsilon_lower_bound(
    out_a: np.ndarray, out_b: np.ndarray, thresholds: list[int], delta: float, alpha: float
) -> tuple[float, str]:
    """Max over threshold events of the Clopper–Pearson ε lower bound; confidence ``1 - alpha``.

    Returns ``(epsilon_lower, event)``; ``(0.0, "none")`` when no event gives a positive bound.
    """
    sorted_a, sorted_b = np.sort(np.asarray(out_a)), np.sort(np.asarray(out_b))
    n_a, n_b = len(sorted_a), len(sorted_b)
    pairs = 4 * len(thresholds)
    level = alpha / (2 * pairs)
    best, best_event = 0.0, "none"
    for t in thresholds:
        below_a = int(np.searchsorted(sorted_a, t, side="left"))  # count of X < t
        below_b = int(np.searchsorted(sorted_b, t, side="left"))
        counts = {
            f"X>={t}": (n_a - below_a, n_b - below_b),
            f"X<{t}": (below_a, below_b),
        }
        for event, (k_a, k_b) in counts.items():
            for label, (k1, n1, k2, n2) in (
                ("a over b", (k_a, n_a, k_b, n_b)),
                ("b over a", (k_b, n_b, k_a, n_a)),
            ):
                lo = clopper_pearson_lower(k1, n1, level)
                hi = clopper_pearson_upper(k2, n2, level)
                if lo > delta and hi > 0:
                    eps = math.log((lo - delta) / hi)
                    if eps > best:
                        best, best_event = eps, f"{event} ({label})"
    return best, best_event


def default_thresholds(value_a: int, value_b: int, spread: float, count: int = 64) -> list[int]:
    """A data-independent grid of integer thresholds from ``min - 3·spread`` to ``max + 3·spread``."""
    lo = math.floor(min(value_a, value_b) - 3 * spread)
    hi = math.ceil(max(value_a, value_b) + 3 * spread)
    step = max(1, math.ceil((hi - lo + 1) / count))
    return list(range(lo, hi + 1, step))


def audit(
    sample: Sampler,
    value_a: int,
    value_b: int,
    draws: int,
    claimed_epsilon: float,
    delta: float,
    thresholds: list[int],
    alpha: float = 1e-3,
) -> AuditResult:
    """Run ``sample`` ``draws`` times on each neighbour and bound ε from below.

    ``sample(value, n)`` returns ``n`` independent outputs of the one-cell mechanism on a
    dataset whose cell holds ``value``.
    """
    out_a = np.asarray(sample(value_a, draws))
    out_b = np.asarray(sample(value_b, draws))
    eps, event = epsilon_lower_bound(out_a, out_b, thresholds, delta, alpha)
    return AuditResult(eps, claimed_epsilon, delta, draws, 1 - alpha, event)


def plan_sampler(plan: NoisePlan) -> Sampler:
    """Sampler for the real release path: :func:`privacy.mechanisms.add_noise` under ``plan``.

    ``n`` cells with the same true value get independent, identically distributed noise, so
    one call on an ``n``-vector gives ``n`` independent releases of the one-cell table.
    """

    def sample(value: int, n: int) -> np.ndarray:
        return add_noise(np.full(n, value, dtype=np.int64), plan)

    return sample


def discrete_gaussian_delta(scale: float, shift: int, epsilon: float) -> float:
    """Exact hockey-stick divergence ``δ(ε)`` between ``N_Z(0,σ²)`` and ``N_Z(shift,σ²)``."""
    sigma = float(scale)
    radius = math.ceil(40 * sigma) + abs(shift) + 2
    z = np.arange(-radius, radius + 1, dtype=np.float64)
    log_w = -(z * z) / (2 * sigma * sigma)
    p_shifted = np.exp(-((z - shift) ** 2) / (2 * sigma * sigma))
    norm = np.exp(log_w).sum()
    loss = (2 * z * shift - shift * shift) / (2 * sigma * sigma)  # ln P_shifted(z) / P(z)
    excess = -np.expm1(np.minimum(epsilon - loss, 0.0))  # max(0, 1 - e^{ε - L})
    return float((p_shifted * excess).sum() / norm)


def discrete_gaussian_epsilon(scale: float, sensitivity: int, delta: float) -> float:
    """Smallest ε with ``δ(ε) <= delta`` for the one-cell discrete Gaussian (bisection).

    The exact (ε, δ) curve of ``x + N_Z(0, σ²)`` for integer neighbours at distance
    ``sensitivity`` (the hockey-stick divergence, as in CKS20); it is symmetric in the two neighbours.
    """
    lo, hi = 0.0, 1.0
    while discrete_gaussian_delta(scale, sensitivity, hi) > delta:
        hi *= 2
    for _ in range(80):
        mid = (lo + hi) / 2
        if discrete_gaussian_delta(scale, sensitivity, mid) > delta:
            lo = mid
        else:
            hi = mid
    return hi
