"""Reconciliation ACROSS tables: a total that is the sum of other noised totals.

Two relations hold exactly for every pupil, so at every level of the standard release:

* ``absent_minutes = Σ reasons``: SQL clamps the five reasons in a fixed order to what the
  pupil's possible minutes leave, and absent minutes to possible, and each absence day's
  reasons add up to the day (sql/derive_prepare.sql), so a pupil's clamped reasons add up to
  its clamped absent minutes. Both are noised: absent minutes as its own table, the reasons as
  one joint table (`service.releases.catalogue.JOINT_TABLES["reason"]`). `RELATIONS` declares it; this module
  estimates the whole from both and makes the parts add up to it.
* ``enrolled = Σ bands``: enrolled is not noised at all but published as the sum of the
  reconciled bands (`service.releases.standard.BAND_SUMS`), so it holds by construction.

Generalised least squares over the relation. Unknowns: the leaf vectors ``x_1 … x_k`` of the
k parts; the whole is ``w = Σ x_j``. At the leaves and every level ``l`` the parts are measured
as ``y_{j,l} = U_l x_j + e`` with the same noise variance ``v_l`` for every part (one joint
table) and the whole as ``z_l = U_l w + e'`` with variance ``u_l``, all noise independent.
Write ``x_j = w/k + c_j`` (``Σ_j c_j = 0``). The part sum ``ȳ_l = Σ_j y_{j,l}`` (variance
``k·v_l``) and the contrasts ``y_{j,l} − ȳ_l/k`` are independent (an orthogonal transform of
i.i.d. noise), and the contrasts do not depend on ``w``. So the likelihood factorises and

1. ``ŵ`` is the GLS estimate from ``z`` and ``ȳ`` alone: at each level two measurements of the
   same group totals, which GLS combines by inverse-variance weights
   ``m_l = (z_l/u_l + ȳ_l/(k v_l)) / (1/u_l + 1/(k v_l))`` with variance
   ``1/(1/u_l + 1/(k v_l))`` (`combine`), then reconciled over the levels like any total
   (`privacy.consistency.reconcile`);
2. ``ĉ_j = G(y_j) − G(ȳ)/k`` with ``G`` the per-total GLS over the levels (the same linear
   map for every part: same design). Hence

       x̂_j = G(y_j) + (ŵ − Σ_i G(y_i)) / k,

   each part takes an equal share of the disagreement between the whole's estimate and the
   sum of the parts' own estimates, and ``Σ_j x̂_j = ŵ`` exactly, at every level.

Covariances (``V_G`` the covariance of ``G(y)``, ``V_w`` that of ``ŵ``; ``ŵ`` and the ``ĉ``
are independent): ``Var(x̂_j) = V_w/k² + (k−1)/k · V_G``, ``cov(x̂_i, x̂_j) = V_w/k² − V_G/k``,
``cov(x̂_j, ŵ) = V_w/k``. A part's covariance model is therefore the combination
``((1/k², model of ŵ), ((k−1)/k, model of G))`` (`privacy.covariance.MeasureModel`
takes such combinations). No published measure combines two parts, or a part with the whole
(each reason rate is one reason over possible minutes, which is noised independently), so
`MeasureModel`'s rule "different basic totals are independent" stays true for every pair it
is asked about.

Everything here reads noisy measurements, their public variances and the public structure
only: post-processing, as in `privacy.consistency`; `privacy.release` calls it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from privacy.consistency import Level, Measured, Reconciled, controlled_round, gls_model, reconcile

#: whole total -> the joint table whose member totals add up to it (per pupil, exactly).
RELATIONS: dict[str, str] = {"absent_minutes": "reason"}


def combine(whole: Measured, parts: Sequence[Measured]) -> Measured:
    """One measurement of the whole's group totals from its own and the sum of its parts'
    (same level, the parts with equal variance): the inverse-variance weighted mean."""
    k = len(parts)
    if k == 0 or any(p.level is not whole.level or p.variance != parts[0].variance for p in parts):
        raise ValueError("the parts must be measured at the whole's level with one variance")
    part_sum = sum(p.noisy.astype(np.float64) for p in parts)
    w_whole, w_parts = 1.0 / whole.variance, 1.0 / (k * parts[0].variance)
    value = (whole.noisy.astype(np.float64) * w_whole + part_sum * w_parts) / (w_whole + w_parts)
    return Measured(whole.level, value, 1.0 / (w_whole + w_parts))


def combined_design(whole: Sequence[tuple[Level | None, float]],
                    parts: Sequence[tuple[Level | None, float]], k: int):
    """The (level, variance) design of `combine`'s measurements (public: from the plan)."""
    return [(lw, 1.0 / (1.0 / vw + 1.0 / (k * vp))) for (lw, vw), (_, vp) in zip(whole, parts)]


def reconcile_whole(n_leaves: int, whole: Sequence[Measured],
                    parts: Sequence[Sequence[Measured]], chain: Sequence[str] | None = None) -> Reconciled:
    """``ŵ``: the whole from its own measurements and its parts' sums, over every level
    (`chain`: the levels of the whole-pupil rounding, as for every other total)."""
    return reconcile(n_leaves, [combine(w, [p[i] for p in parts]) for i, w in enumerate(whole)],
                     chain=chain)


def share_disagreement(whole: Reconciled, own: Sequence[Reconciled],
                       levels: dict[str, Level]) -> list[dict]:
    """``x̂_j = G(y_j) + (ŵ − Σ_i G(y_i))/k`` for every part, at the leaves (key None) and
    every level: estimate, variance (``V_w/k² + (k−1)/k · V_G``) and the whole-pupil integers
    (controlled rounding of the new estimates along the parts' own chain)."""
    k = len(own)
    keys = [None, *whole.levels]
    est_w = {None: whole.leaf_estimate, **{n: r.estimate for n, r in whole.levels.items()}}
    var_w = {None: whole.leaf_variance, **{n: r.variance for n, r in whole.levels.items()}}
    own_est = [{None: r.leaf_estimate, **{n: v.estimate for n, v in r.levels.items()}} for r in own]
    var_g = {None: own[0].leaf_variance, **{n: v.variance for n, v in own[0].levels.items()}}
    gap = {key: (est_w[key] - sum(e[key] for e in own_est)) / k for key in keys}
    variance = {key: var_w[key] / k**2 + (k - 1) / k * var_g[key] for key in keys}
    out = []
    for e in own_est:
        estimate = {key: e[key] + gap[key] for key in keys}
        chain = [(levels[n].group_of_leaf, estimate[n], variance[n]) for n in own[0].chain]
        leaf_integer = controlled_round(estimate[None], variance[None], chain)
        integer = {None: leaf_integer.astype(np.int64)}
        for name in whole.levels:
            lv = levels[name]
            covered = lv.group_of_leaf >= 0
            integer[name] = np.rint(np.bincount(lv.group_of_leaf[covered], weights=leaf_integer[covered],
                                                minlength=lv.n_groups)).astype(np.int64)
        out.append({"estimate": estimate, "variance": variance, "integer": integer})
    return out


def part_model(whole_design, part_design, n_leaves: int, k: int) -> tuple:
    """The covariance model of one part: ``((1/k², model of ŵ), ((k−1)/k, model of G))``."""
    return ((1.0 / k**2, gls_model(n_leaves, combined_design(whole_design, part_design, k))),
            ((k - 1) / k, gls_model(n_leaves, part_design)))
