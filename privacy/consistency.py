"""Hierarchical consistency: one set of leaf values that every published level adds up to.

Several hierarchies share the same leaves (schools): school → municipality → province →
country, school → samenwerkingsverband → country, school → RMC region → country. Each level
was measured with independent noise of known variance per cell. `reconcile` returns

1. the generalised (weighted) least-squares estimate of the leaves,
   x̂ = argmin_x Σ_rows (A x − y)² / σ²_row, where A stacks the identity (leaf measurements)
   and the 0/1 indicator matrix of every level, together with the exact variance of every leaf
   and of every group total, cᵀ(AᵀWA)⁻¹c (unbiased, so it carries honest error bars), and
2. non-negative integer leaves whose sums at every level are the published integers, so
   everything adds up exactly; along the nested chain used for rounding (e.g. country →
   province → municipality → school) each group's integer is its non-negative estimate
   rounded down or up (top-down controlled rounding, largest remainder).

The normal matrix AᵀWA = D + U C Uᵀ (D diagonal from the leaf measurements, U the stacked
indicator matrices, C the diagonal group weights) is inverted with the Woodbury identity,
(D + UCUᵀ)⁻¹ = D⁻¹ − D⁻¹U M⁻¹ UᵀD⁻¹ with M = C⁻¹ + UᵀD⁻¹U, a dense solve of the size of
the number of groups (about 600 nationally), not of the leaves (about 8,400). A measured
group total's variance then has the closed form σ²(1 − σ² (M⁻¹)_jj).

Privacy argument (post-processing): the inputs are the noisy measurements, their noise
variances (public functions of the budget and the declared sensitivity) and the public
structure (which school lies in which area, from the public register). No step reads the true
aggregates, so every output is a function of already differentially private values and
inherits their guarantee unchanged (post-processing immunity; Dwork and Roth 2014, Prop. 2.1;
for zCDP Bun and Steinke 2016, Lemma 1.8).

References: Hay, Rastogi, Miklau, Suciu, "Boosting the accuracy of differentially private
histograms through consistency", PVLDB 3(1), 2010 (least squares over a tree of noisy
counts); the US Census Bureau's GLS estimator for the 2020 noisy measurements (arXiv
2404.13164), which uses the same estimator at national scale and publishes its standard
deviations. See docs/privacy-consistency-ledger.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import hashlib
import threading

import numpy as np
import scipy.sparse as sp
from scipy.linalg import cho_factor, cho_solve

from privacy.blas_threads import one_blas_thread

__all__ = [
    "ConsistencyError",
    "GlsModel",
    "Level",
    "LevelResult",
    "Measured",
    "Reconciled",
    "controlled_round",
    "gls_model",
    "nested_chain",
    "reconcile",
]


class ConsistencyError(ValueError):
    """The measurements cannot be reconciled as given."""

    def __init__(self, reason: str, level: str | None = None) -> None:
        self.reason = reason
        self.level = level
        super().__init__(f"{reason}" + (f" (level {level!r})" if level else ""))


@dataclass(frozen=True)
class Level:
    """One level of one hierarchy: the group of every leaf at this level (public structure)."""

    name: str
    group_of_leaf: np.ndarray  # int, len n_leaves: group index, or -1 if the leaf is not covered
    n_groups: int

    def __post_init__(self) -> None:
        groups = np.asarray(self.group_of_leaf, dtype=np.int64)
        if groups.ndim != 1:
            raise ConsistencyError("group_of_leaf must be one-dimensional", self.name)
        if groups.size and (groups.min() < -1 or groups.max() >= self.n_groups):
            raise ConsistencyError("group index outside [-1, n_groups)", self.name)
        object.__setattr__(self, "group_of_leaf", groups)


@dataclass(frozen=True)
class Measured:
    """Noisy values at one level (or at the leaves when `level` is None), with the noise
    variance per cell (public: it follows from the budget and the declared sensitivity)."""

    level: Level | None
    noisy: np.ndarray
    variance: float

    def __post_init__(self) -> None:
        name = self.level.name if self.level else "leaf"
        if not (np.isfinite(self.variance) and self.variance > 0):
            raise ConsistencyError("noise variance must be positive and finite", name)
        noisy = np.asarray(self.noisy)
        if noisy.ndim != 1:
            raise ConsistencyError("noisy values must be one-dimensional", name)
        if self.level is not None and noisy.size != self.level.n_groups:
            raise ConsistencyError("one noisy value per group is required", name)
        object.__setattr__(self, "noisy", noisy)


@dataclass(frozen=True)
class LevelResult:
    """Reconciled values of one level, per group."""

    estimate: np.ndarray  # WLS estimate of the group total (float, unbiased)
    variance: np.ndarray  # its exact variance
    integer: np.ndarray  # published integer: the sum of the integer leaves in the group
    raw_variance: float  # noise variance of the raw measurement of this level

    @property
    def gain(self) -> np.ndarray:
        """Accuracy gain per group: raw noise variance / reconciled variance (nan for groups
        without leaves, whose total is known to be 0)."""
        out = np.full(self.variance.shape, np.nan)
        np.divide(self.raw_variance, self.variance, out=out, where=self.variance > 0)
        return out

    @property
    def median_gain(self) -> float:
        """Median accuracy gain over the groups that contain leaves."""
        gain = self.gain
        return float(np.median(gain[np.isfinite(gain)])) if np.isfinite(gain).any() else 1.0


@dataclass(frozen=True)
class Reconciled:
    """Consistent estimates for the leaves and every measured level."""

    leaf_estimate: np.ndarray
    leaf_variance: np.ndarray
    leaf_integer: np.ndarray
    levels: dict[str, LevelResult]
    leaf_raw_variance: float
    chain: tuple[str, ...]  # the nested levels (coarse → fine) used for controlled rounding
    model: "GlsModel | None" = None  # the normal equations' inverse, for covariances

    def indicator(self, level: str | None, groups=None) -> sp.csc_matrix:
        """Leaves × k 0/1 matrix whose columns sum the leaves of the chosen groups of `level`
        (None: the leaves themselves); `groups` indexes the level's groups (default all)."""
        if self.model is None:
            raise ConsistencyError("this result carries no covariance model")
        return self.model.indicator(level, groups)

    def covariance(self, a, b=None) -> np.ndarray:
        """Exact covariance of the reconciled linear combinations ``aᵀx̂`` and ``bᵀx̂``
        (a, b: leaves × k matrices, e.g. from `indicator`): ``aᵀ (AᵀWA)⁻¹ b``."""
        if self.model is None:
            raise ConsistencyError("this result carries no covariance model")
        return self.model.covariance(a, b)


@dataclass(frozen=True)
class GlsModel:
    """The inverse of the normal matrix, kept in Woodbury form:
    P = (AᵀWA)⁻¹ = D⁻¹ − D⁻¹ U M⁻¹ Uᵀ D⁻¹ with M⁻¹ = `m_inv_scaled` / `scale`. Public
    (structure and noise variances only)."""

    dinv: np.ndarray
    u: sp.csr_matrix
    m_inv_scaled: np.ndarray
    scale: float
    columns: dict[str, slice]     # level name → its columns of U
    group_var: np.ndarray         # noise variance of every column's measurement (C⁻¹)
    quad_scaled: np.ndarray       # diag(U M⁻¹ Uᵀ)·scale, per leaf

    @cached_property
    def u_csc(self) -> sp.csc_matrix:
        """U by columns: the leaves of each group."""
        return self.u.tocsc()

    def indicator(self, level: str | None, groups=None) -> sp.csc_matrix:
        n = self.dinv.size
        if level is None:
            idx = np.arange(n) if groups is None else np.asarray(groups, dtype=np.int64)
            return sp.csc_matrix((np.ones(idx.size), (idx, np.arange(idx.size))), shape=(n, idx.size))
        if level not in self.columns:
            raise ConsistencyError("level was not measured", level)
        cols = np.arange(self.columns[level].start, self.columns[level].stop)
        if groups is not None:
            cols = cols[np.asarray(groups, dtype=np.int64)]
        return self.u_csc[:, cols]

    def group_variance(self, group_of_leaf: np.ndarray, n_groups: int) -> np.ndarray:
        """The exact variance of each group's sum of GLS leaf estimates, for any grouping of
        the leaves (-1: in no group), measured or not: diag(Sᵀ P S) with S the leaves ×
        groups indicator, without forming the k × k covariance."""
        groups = np.asarray(group_of_leaf, dtype=np.int64)
        inside = np.flatnonzero(groups >= 0)
        out = np.bincount(groups[inside], weights=self.dinv[inside], minlength=n_groups)
        if self.u.shape[1]:
            s = sp.csr_matrix((self.dinv[inside], (groups[inside], inside)),
                              shape=(n_groups, self.dinv.size))   # Sᵀ D⁻¹
            left = np.asarray((s @ self.u).todense())
            out = out - np.einsum("ij,ij->i", left @ self.m_inv_scaled, left) / self.scale
        return out

    def covariance(self, a, b=None) -> np.ndarray:
        a = sp.csc_matrix(a)
        b = a if b is None else sp.csc_matrix(b)
        da, db = sp.diags(self.dinv) @ a, sp.diags(self.dinv) @ b
        out = np.asarray((a.T @ db).todense())
        if self.u.shape[1]:
            left = np.asarray((da.T @ self.u).todense())
            right = left if b is a else np.asarray((db.T @ self.u).todense())
            out = out - (left @ self.m_inv_scaled @ right.T) / self.scale
        return out


def gls_model(n_leaves: int, design: Sequence[tuple[Level | None, float]]) -> GlsModel:
    """The covariance model of the GLS estimate for measurements with this design: one
    (level, noise variance) per measurement, None for the leaves. Public inputs only (the
    structure and the variances), so it can be rebuilt from a release's spec and the
    register without any data. At least one measurement of the leaves is required."""
    leaf_vars = [v for lv, v in design if lv is None]
    levels = [(lv, v) for lv, v in design if lv is not None]
    if not leaf_vars:
        raise ConsistencyError("at least one measurement of the leaves is required")
    names = [lv.name for lv, _ in levels]
    if len(set(names)) != len(names):
        raise ConsistencyError("each level may be measured once", str(names))
    for lv, _ in levels:
        if lv.group_of_leaf.size != n_leaves:
            raise ConsistencyError("group_of_leaf must have one entry per leaf", lv.name)
    # Diagonal part D, stacked indicator matrix U (leaves × all groups), group variances C⁻¹.
    dinv = 1.0 / np.full(n_leaves, sum(1.0 / v for v in leaf_vars))
    offsets = np.cumsum([0] + [lv.n_groups for lv, _ in levels])
    rows, cols = [], []
    for (lv, _), off in zip(levels, offsets[:-1]):
        covered = np.flatnonzero(lv.group_of_leaf >= 0)
        rows.append(covered)
        cols.append(lv.group_of_leaf[covered] + off)
    rows_a = np.concatenate(rows) if rows else np.empty(0, np.int64)
    cols_a = np.concatenate(cols) if cols else np.empty(0, np.int64)
    n_cols = int(offsets[-1])
    u = sp.csr_matrix((np.ones(rows_a.size), (rows_a, cols_a)), shape=(n_leaves, n_cols))
    group_var = np.concatenate([np.full(lv.n_groups, v) for lv, v in levels] or [[]])
    if n_cols:
        m_inv_scaled, quad_scaled, scale = _inverse(u, rows_a, cols_a, dinv, group_var)
    else:
        m_inv_scaled, quad_scaled, scale = np.zeros((0, 0)), np.zeros(n_leaves), 1.0
    columns = {lv.name: slice(int(off), int(off) + lv.n_groups) for (lv, _), off in zip(levels, offsets)}
    return GlsModel(dinv, u, m_inv_scaled, scale, columns, group_var, quad_scaled)


def reconcile(
    n_leaves: int,
    measurements: Sequence[Measured],
    *,
    nonnegative: bool = True,
    chain: Sequence[str] | None = None,
) -> Reconciled:
    """Reconcile noisy measurements at several levels into consistent leaf values.

    `chain` names nested levels, finest first or in any order, for the controlled rounding;
    by default the longest chain of fully covering, nested levels is found from the
    structure. Requires at least one measurement of the leaves themselves.
    """
    leaf_ms = [m for m in measurements if m.level is None]
    level_ms = [m for m in measurements if m.level is not None]
    for m in leaf_ms:
        if m.noisy.size != n_leaves:
            raise ConsistencyError("leaf measurement must have one value per leaf", "leaf")
    model = gls_model(n_leaves, [(m.level, m.variance) for m in measurements])
    dinv, u, group_var = model.dinv, model.u, model.group_var

    # Right-hand side AᵀWy; Woodbury: (D + UCUᵀ)⁻¹ = D⁻¹ − D⁻¹U M⁻¹ UᵀD⁻¹, M = C⁻¹ + UᵀD⁻¹U.
    rhs = sum(m.noisy.astype(np.float64) / m.variance for m in leaf_ms)
    group_noisy = np.concatenate([m.noisy.astype(np.float64) for m in level_ms] or [[]])
    if group_var.size:
        rhs = rhs + u @ (group_noisy / group_var)
    leaf_raw_variance = float(dinv[0]) if n_leaves else 0.0
    z = dinv * rhs
    if group_var.size:
        x = z - dinv * (u @ (model.m_inv_scaled @ (u.T @ z))) / model.scale
        leaf_var = dinv - dinv**2 * model.quad_scaled / model.scale
        totals = u.T @ x
        totals_var = group_var * (1.0 - group_var * np.diag(model.m_inv_scaled) / model.scale)
    else:
        x, leaf_var = z, dinv.copy()
        totals = totals_var = np.empty(0)
    leaf_var = np.maximum(leaf_var, 0.0)
    totals_var = np.maximum(totals_var, 0.0)

    by_name = {m.level.name: m.level for m in level_ms}
    chain_levels = _chain(by_name, chain)
    col_of = model.columns
    leaf_integer = controlled_round(
        x,
        leaf_var,
        [(lv.group_of_leaf, totals[col_of[lv.name]], totals_var[col_of[lv.name]]) for lv in chain_levels],
        nonnegative=nonnegative,
    )

    levels = {}
    for m in level_ms:
        lv, cols_m = m.level, col_of[m.level.name]
        covered = lv.group_of_leaf >= 0
        integer = np.bincount(lv.group_of_leaf[covered], weights=leaf_integer[covered], minlength=lv.n_groups)
        levels[lv.name] = LevelResult(
            estimate=totals[cols_m],
            variance=totals_var[cols_m],
            integer=np.rint(integer).astype(np.int64),
            raw_variance=float(m.variance),
        )
    return Reconciled(
        leaf_estimate=x,
        leaf_variance=leaf_var,
        leaf_integer=leaf_integer,
        levels=levels,
        leaf_raw_variance=float(leaf_raw_variance),
        chain=tuple(lv.name for lv in chain_levels),
        model=model,
    )


#: Factorisations by structure and relative variances (public inputs only), shared by the
#: request threads and the writer thread: read and written under `_INVERSES_LOCK` (the solve
#: itself runs outside it; two threads may both solve the same key, never read a half state).
_INVERSES: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
_INVERSES_LOCK = threading.Lock()


def _inverse(u: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray, dinv: np.ndarray,
             group_var: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """M⁻¹·s and diag(U M⁻¹ Uᵀ)·s for M = C⁻¹ + UᵀD⁻¹U, and the scale s.

    Scaling every variance by c scales D⁻¹, C and so M by c; both are cached for the
    structure and M/s with s = D⁻¹ of the first leaf (so M⁻¹ = (M/s)⁻¹ / s): a release
    reconciles many totals whose per-level variances differ only by a factor (the planner gives every table the same split over
    levels), and one factorisation serves them all. Public inputs only (structure, variances).
    """
    scale = float(dinv[0]) if dinv.size else 1.0
    key = hashlib.sha256(b"".join([rows.tobytes(), cols.tobytes(), (dinv / scale).round(12).tobytes(),
                                   (group_var / scale).round(12).tobytes()])).digest()
    with _INVERSES_LOCK:
        found = _INVERSES.get(key)
    if found is None:
        with one_blas_thread():  # a ~600² solve: threads only add contention
            found = _solve(u, dinv / scale, group_var / scale)
        with _INVERSES_LOCK:
            _INVERSES[key] = found
            while len(_INVERSES) > 8:
                _INVERSES.pop(next(iter(_INVERSES)))
    m_inv, quad = found
    return m_inv, quad, scale


def _solve(u: sp.csr_matrix, dinv: np.ndarray, group_var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The dense inner solve of the Woodbury identity, and diag(U M⁻¹ Uᵀ)."""
    m_inner = (u.T @ sp.diags(dinv) @ u).toarray() + np.diag(group_var)
    factor = cho_factor(m_inner, lower=True, check_finite=False)
    m_inv = cho_solve(factor, np.eye(m_inner.shape[0]), check_finite=False)
    quad = np.asarray(u.multiply(u @ m_inv).sum(axis=1)).ravel()
    return m_inv, quad


def _chain(by_name: dict[str, Level], chain: Sequence[str] | None) -> list[Level]:
    """The nested levels used for controlled rounding, coarse → fine."""
    if chain is None:
        return nested_chain(list(by_name.values()))
    unknown = [n for n in chain if n not in by_name]
    if unknown:
        raise ConsistencyError("chain names a level that was not measured", unknown[0])
    levels = sorted((by_name[n] for n in chain), key=lambda lv: lv.n_groups)
    for lv in levels:
        if (lv.group_of_leaf < 0).any():
            raise ConsistencyError("a rounding chain level must cover every leaf", lv.name)
    for coarse, fine in zip(levels, levels[1:]):
        if not _nested(fine, coarse):
            raise ConsistencyError(f"level is not nested in {coarse.name!r}", fine.name)
    return levels


# ── Non-negative integers: top-down projection and controlled rounding ───────────


def _nested(fine: Level, coarse: Level) -> bool:
    """Every group of `fine` lies inside one group of `coarse` (both cover every leaf)."""
    f, c = fine.group_of_leaf, coarse.group_of_leaf
    if (f < 0).any() or (c < 0).any():
        return False
    parent = np.full(fine.n_groups, -1, dtype=np.int64)
    parent[f] = c
    return bool((parent[f] == c).all())


def nested_chain(levels: Sequence[Level]) -> list[Level]:
    """Longest chain of fully covering levels, each nested in the next (coarse → fine).
    Ties go to the level measured first."""
    full = [lv for lv in levels if lv.group_of_leaf.size and (lv.group_of_leaf >= 0).all()]
    order = sorted(range(len(full)), key=lambda i: full[i].n_groups)
    best: dict[int, list[Level]] = {}
    for pos, i in enumerate(order):
        prev: list[Level] = []
        for j in order[:pos]:
            if full[j].n_groups < full[i].n_groups and len(best[j]) > len(prev) and _nested(full[i], full[j]):
                prev = best[j]
        best[i] = prev + [full[i]]
    return max(best.values(), key=len, default=[])


def controlled_round(
    leaf_estimate: np.ndarray,
    leaf_variance: np.ndarray,
    chain: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
    *,
    nonnegative: bool = True,
) -> np.ndarray:
    """Integer leaves from consistent WLS values, top-down along a nested chain.

    `chain` lists (group_of_leaf, group estimate, group variance) coarse → fine. Starting from
    the total, each level's values are moved to the nearest non-negative values (in the
    variance-weighted norm) that sum to their parent's value, then rounded so that they sum
    to their parent's integer (largest remainder: each value goes to its floor or ceiling).
    """
    n = leaf_estimate.size
    total = float(leaf_estimate.sum())
    parent_value = np.array([max(total, 0.0) if nonnegative else total])
    parent_integer = np.rint(parent_value).astype(np.int64)
    parent_of_leaf = np.zeros(n, dtype=np.int64)
    steps = list(chain) + [(np.arange(n), leaf_estimate, leaf_variance)]
    for group_of_leaf, estimate, variance in steps:
        parent = np.full(estimate.size, -1, dtype=np.int64)
        parent[group_of_leaf] = parent_of_leaf
        active = np.flatnonzero(parent >= 0)
        value = np.zeros(estimate.size)
        value[active] = _project(estimate[active], variance[active], parent[active], parent_value, nonnegative)
        integer = np.zeros(estimate.size, dtype=np.int64)
        integer[active] = _largest_remainder(value[active], parent[active], parent_integer)
        parent_of_leaf, parent_value, parent_integer = group_of_leaf, value, integer
    return parent_integer


def _project(x: np.ndarray, v: np.ndarray, parent: np.ndarray, target: np.ndarray, nonnegative: bool) -> np.ndarray:
    """Per parent p: argmin Σ (z − x)²/v subject to Σ z = target[p] (and z ≥ 0)."""
    v = np.where(v > 0, v, np.finfo(float).tiny)
    if not nonnegative:
        sum_x = np.bincount(parent, weights=x, minlength=target.size)
        sum_v = np.bincount(parent, weights=v, minlength=target.size)
        shift = np.divide(target - sum_x, sum_v, out=np.zeros(target.size), where=sum_v > 0)
        return x + shift[parent] * v
    # Weighted simplex projection: z = max(x − τ v, 0) with τ chosen so that Σ z = target.
    breakpoint = x / v
    order = np.lexsort((-breakpoint, parent))
    ps, xs, vs, bs = parent[order], x[order], v[order], breakpoint[order]
    starts = np.flatnonzero(np.r_[True, ps[1:] != ps[:-1]])
    run = np.repeat(starts, np.diff(np.r_[starts, ps.size]))
    cx, cv = np.cumsum(xs), np.cumsum(vs)
    cx = cx - (cx[run] - xs[run])
    cv = cv - (cv[run] - vs[run])
    tau_k = (cx - target[ps]) / cv
    last = np.full(target.size, -1, dtype=np.int64)
    np.maximum.at(last, ps, np.where(bs > tau_k, np.arange(ps.size), -1))
    tau = np.where(last >= 0, tau_k[np.maximum(last, 0)], np.inf)
    zs = np.where(target[ps] > 0, np.maximum(xs - tau[ps] * vs, 0.0), 0.0)
    out = np.empty_like(zs)
    out[order] = zs
    return out


def _largest_remainder(value: np.ndarray, parent: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per parent p: integers that sum to target[p], each the floor or ceiling of its value
    (when the values sum to within 1 of the target), extra units to the largest remainders."""
    floor = np.floor(value + 1e-9)
    remainder = value - floor
    short = target - np.bincount(parent, weights=floor, minlength=target.size).round().astype(np.int64)
    order = np.lexsort((-remainder, parent))
    ps = parent[order]
    starts = np.flatnonzero(np.r_[True, ps[1:] != ps[:-1]])
    rank = np.arange(ps.size) - np.repeat(starts, np.diff(np.r_[starts, ps.size]))
    bump = np.zeros(value.size, dtype=np.int64)
    bump[order] = (rank < short[ps]).astype(np.int64)
    return floor.astype(np.int64) + bump
