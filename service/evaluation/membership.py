"""Membership test: is this pupil with severe absence in school X?

Two neighbouring datasets differ by one pupil with severe absence in school X, so the count of
severe absence in X is ``c`` (without) or ``c + 1`` (with). The attacker knows everything else
(the standard DP adversary) and sees one released count.

* **DP release**: the count plus discrete Gaussian noise from OpenDP (``add_noise`` with
  ``plan_gaussian(BoundSpec(0, 1, 1), ρ)``; one pupil moves one 0/1 count by at most 1). The
  attacker's best test is a threshold on the released value ("with" if ``released >= τ``); its
  advantage is ``max_τ TPR(τ) − FPR(τ)``, measured over many independent releases of each
  dataset. (ε, δ)-DP bounds the advantage of *any* test by ``(e^ε − 1 + 2δ) / (e^ε + 1)``
  (Kairouz, Oh & Viswanath 2015), with ε from the zCDP profile at δ (``Rho.epsilon``). We also
  give the exact optimum, the total-variation distance between the two discrete Gaussians.
* **Suppressed release**: the count is hidden when it is 1–4, but the municipality total and
  the other schools' counts are published exactly. Suppression is deterministic, so if the
  published vectors of the two datasets differ anywhere the attacker tells them apart every
  time: advantage 1 (here, the margin minus the other schools is the hidden count itself).

The true counts used here are the attacker's hypotheses on a synthetic school, not data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from privacy.bounds import BoundSpec
from privacy.budget import DEFAULT_DELTA, Rho
from privacy.mechanisms import add_noise, plan_gaussian
from service.evaluation.differencing import feasible_intervals
from service.evaluation.suppression import complementary_suppression, primary_mask, table_with_margins

COUNT_SPEC = BoundSpec(0, 1, 1)


@dataclass(frozen=True)
class MembershipResult:
    """One attack: measured advantage, the exact optimum and the bound ε allows."""

    release: str
    rho: float | None
    epsilon: float | None
    delta: float | None
    trials: int
    advantage: float
    exact_advantage: float | None
    bound: float | None


def best_threshold_advantage(without: np.ndarray, with_: np.ndarray) -> float:
    """max over τ of P(with_ >= τ) − P(without >= τ): the best threshold test's advantage."""
    cuts = np.unique(np.concatenate([without, with_]))
    tpr = 1.0 - np.searchsorted(np.sort(with_), cuts, side="left") / len(with_)
    fpr = 1.0 - np.searchsorted(np.sort(without), cuts, side="left") / len(without)
    return float(max(0.0, (tpr - fpr).max()))


def advantage_bound(epsilon: float, delta: float) -> float:
    """The largest TPR − FPR any test can reach against an (ε, δ)-DP release."""
    return float((np.expm1(epsilon) + 2 * delta) / (np.exp(epsilon) + 1))


def gaussian_shift_tv(scale: float) -> float:
    """Total variation between the discrete Gaussians centred at 0 and 1 (exact optimum)."""
    width = int(np.ceil(40 * scale)) + 2
    xs = np.arange(-width, width + 2, dtype=float)
    p = np.exp(-xs ** 2 / (2 * scale ** 2))
    q = np.exp(-(xs - 1) ** 2 / (2 * scale ** 2))
    return float(0.5 * np.abs(p / p.sum() - q / q.sum()).sum())


def dp_membership(rho: Rho, count_without: int = 2, trials: int = 20_000,
                  delta: float = DEFAULT_DELTA) -> MembershipResult:
    """Release the count of school X ``trials`` times under each dataset (OpenDP noise)."""
    plan = plan_gaussian(COUNT_SPEC, rho)
    without = add_noise(np.full(trials, count_without, dtype=np.int64), plan)
    with_ = add_noise(np.full(trials, count_without + 1, dtype=np.int64), plan)
    epsilon = rho.epsilon(delta)
    return MembershipResult("dp", float(rho), epsilon, delta, trials,
                            best_threshold_advantage(without, with_),
                            gaussian_shift_tv(plan.scale), advantage_bound(epsilon, delta))


def suppressed_membership(others: np.ndarray, count_without: int = 2,
                          complementary: bool = False) -> MembershipResult:
    """The schools of one municipality (rows) × (severe, not severe) with margins, published
    under primary (or complementary) suppression, for both neighbours. The attacker's best
    test compares the published cells and, where hidden, the LP interval of school X."""
    views = []
    for x in (count_without, count_without + 1):
        severe = np.concatenate([[x], np.asarray(others, dtype=np.int64)])
        inner = np.stack([severe, np.full_like(severe, 20)], axis=1)
        table = table_with_margins(inner)
        hidden = (complementary_suppression(table).hidden if complementary
                  else primary_mask(table.values))
        lo, hi = feasible_intervals(table, hidden)
        published = np.where(hidden, -1, table.values)
        views.append((tuple(published), lo[0], hi[0]))
    distinguishable = views[0] != views[1]
    return MembershipResult("suppression" + (" + complementary" if complementary else " (primary)"),
                            None, None, None, 1, 1.0 if distinguishable else 0.0, None, None)
