"""Covariances of published measures, from the GLS models of the reconciled totals.

A measure is a sum of basic totals, or a ratio of two such sums (`service.releases.catalogue.Measure`). Each
basic total of the standard release was noised independently of every other total and
reconciled by GLS (`privacy.consistency.reconcile`), whose model gives the exact covariance
of any two group totals of that basic total (`GlsModel.covariance`). Sums share noise only
through shared basic totals (a share's numerator `chronic` = bands 10–20, 20–50, ≥ 50 % lies
inside its denominator `enrolled` = all bands), so

    cov(Σ_{t∈A} t_g, Σ_{s∈B} s_h) = Σ_{t ∈ A ∩ B} cov_t(g, h).

A ratio r = n/d is linearised as (n − r d)/d: its correlation with another ratio is the
correlation of e = n − r d, which needs only the ratios and the totals' covariances; the
published sds give the scale. The models are public (structure and noise variances), so
`service.compare` rebuilds them from the register and the release's ρ without reading any data
(`privacy.release.covariance_model`).

A basic total reconciled across tables (a reason, whose estimate also uses the absent minutes:
`privacy.relations`) has as its model a combination ``((c_1, model_1), …)``: its
covariance is ``Σ c_i · cov_i`` over GLS models of the same leaves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from privacy.blas_threads import one_blas_thread
from privacy.consistency import GlsModel, Level

#: A group of a level: ("school", i) is leaf i; (level, i) the i-th group of a measured level.
Group = tuple[str, int]


@dataclass(frozen=True)
class MeasureModel:
    """The GLS model of each basic total, and which basic totals each published total sums."""

    models: dict[str, GlsModel | tuple[tuple[float, GlsModel], ...]]
    parts: dict[str, tuple[str, ...]]
    #: unmeasured, cross-classified levels (`privacy.release.Structure.derived`): group of every leaf
    derived: dict[str, Level] = field(default_factory=dict)
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    def _components(self, total: str) -> tuple[tuple[float, GlsModel], ...]:
        model = self.models[total]
        return model if isinstance(model, tuple) else ((1.0, model),)

    def _selector(self, model: GlsModel, groups: list[Group]) -> sp.csc_matrix:
        """Leaves × k indicator of the groups (in order), for one GLS model's structure."""
        u = model.u_csc
        rows, cols = [], []
        for j, (level, index) in enumerate(groups):
            if level == "school":
                leaves = np.array([index])
            elif level in self.derived:
                leaves = np.flatnonzero(self.derived[level].group_of_leaf == index)
            else:
                c = model.columns[level].start + index
                leaves = u.indices[u.indptr[c]:u.indptr[c + 1]]
            rows.append(leaves)
            cols.append(np.full(leaves.size, j))
        r, c = np.concatenate(rows), np.concatenate(cols)
        return sp.csc_matrix((np.ones(r.size), (r, c)), shape=(model.dinv.size, len(groups)))

    def total_cov(self, a: str, groups_a: list[Group], b: str, groups_b: list[Group]) -> np.ndarray:
        """Covariance (k_a × k_b) of published total `a` at groups_a with total `b` at groups_b."""
        out = np.zeros((len(groups_a), len(groups_b)))
        shared = [t for t in self.parts[a] for s in self.parts[b] if t == s]
        for t in shared:
            out += self._basic_cov(t, groups_a, groups_b)
        return out

    def _basic_cov(self, total: str, groups_a: list[Group], groups_b: list[Group]) -> np.ndarray:
        """One basic total's covariance (the weighted sum over its model's components)."""
        return sum(c * self._model_cov(model, groups_a, groups_b)
                   for c, model in self._components(total))

    def _model_cov(self, model: GlsModel, groups_a: list[Group], groups_b: list[Group]) -> np.ndarray:
        """One GLS model's covariance. Models that share their normal matrix up to a factor
        (the budget plan gives every table the same split over levels) share one computation:
        the covariance scales with `GlsModel.scale`."""
        key = (id(model.m_inv_scaled), tuple(groups_a), tuple(groups_b))
        unit = self._cache.get(key)
        if unit is None:
            sel_a = self._selector(model, groups_a)
            sel_b = sel_a if groups_b == groups_a else self._selector(model, groups_b)
            with one_blas_thread():
                unit = model.covariance(sel_a, sel_b) / model.scale
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[key] = unit
        return unit * model.scale

    def sum_cov(self, names_a: tuple[str, ...], groups_a: list[Group], names_b: tuple[str, ...],
                groups_b: list[Group]) -> np.ndarray:
        """Covariance of two sums of published totals."""
        out = np.zeros((len(groups_a), len(groups_b)))
        for a in names_a:
            for b in names_b:
                out += self.total_cov(a, groups_a, b, groups_b)
        return out

    def measure_cov(self, measure, groups: list[Group], ratios: np.ndarray | None = None,
                    sds: np.ndarray | None = None) -> np.ndarray:
        """Covariance of a measure's published values at `groups`. Counts: exact. Ratios
        (linearised): the correlation of e = n − r·d (r the un-complemented ratios) scaled by
        the published sds; nan where a ratio has no estimate."""
        cnn = self.sum_cov(measure.numerator, groups, measure.numerator, groups)
        if not measure.denominator:
            return cnn
        r = np.asarray(ratios, dtype=float)
        if measure.complement:
            r = 1.0 - r
        cnd = self.sum_cov(measure.numerator, groups, measure.denominator, groups)
        cdd = self.sum_cov(measure.denominator, groups, measure.denominator, groups)
        ce = cnn - r[:, None] * cnd.T - r[None, :] * cnd + np.outer(r, r) * cdd
        sd_e = np.sqrt(np.clip(np.diag(ce), 0.0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = ce / np.outer(sd_e, sd_e)
        sds = np.asarray(sds, dtype=float)
        return corr * np.outer(sds, sds)
