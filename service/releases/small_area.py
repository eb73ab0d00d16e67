"""Model estimates for schools beside their direct estimates (issue 26): the Beta–Gaussian
empirical Bayes posterior (`privacy.small_area.beta_posterior`) of a school's chronic or severe
absence share, from public inputs only — its prior is the published value of its municipality ×
sector (the country's for the sector where that has no estimate) with a binomial spread for the
school's published size plus that value's own noise variance — and its direct estimate with the
known noise variance (the published sd²). Post-processing of published values: `model_columns`
takes the cells as published and the public structure, nothing else, and spends no budget.

The model estimate never replaces the direct one: it is published beside it, in its own
columns (`model_estimate`, `model_lower`, `model_upper`), and verdicts stay with the direct
estimate (docs/privacy.md, "Small-area estimates"). The absence rate gets none: a rate of
minutes has no known spread between schools (the binomial one over-covers it, 0.99, and one
fitted by moments collapsed; docs/benchmarks.md).

`covariates` and `binomial_variance` are the inputs of the Fay–Herriot model that
bench/small_area.py measures beside it (not published: its intervals missed the worst schools)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from privacy.small_area import beta_posterior
from service.register.areas import AreaLevels

#: The school measures that get a model estimate (shares of pupils of the standard release).
MODEL_MEASURES = ("chronic_share", "severe_share")
MODEL_COLUMNS = ("model_estimate", "model_lower", "model_upper")
SECTORS = ("PO", "SBO", "SO", "VSO", "VO")


def _number(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)


def _school_sector_and_municipality(areas: AreaLevels) -> tuple[np.ndarray, np.ndarray]:
    sector = np.array(areas.codes["sector"])[areas.levels["sector"].group_of_leaf]
    municipality = np.array(areas.codes["municipality"])[areas.levels["municipality"].group_of_leaf]
    return sector, municipality


def _published(cells: pd.DataFrame, measure: str, level: str, column: str) -> dict:
    rows = cells[(cells["measure"] == measure) & (cells["level"] == level)]
    if level == "country":
        return dict(zip(rows["sector"], _number(rows[column])))
    rows = rows[rows["sector"] != "all"]
    return dict(zip(zip(rows["area_code"], rows["sector"]), _number(rows[column])))


def school_sizes(cells: pd.DataFrame, areas: AreaLevels) -> np.ndarray:
    """Each school's published size (the shown enrolment, at least 1), register order."""
    enrolled = cells[(cells["measure"] == "enrolled") & (cells["level"] == "school")]
    size = dict(zip(enrolled["area_code"], _number(enrolled["shown"])))
    return np.maximum(np.nan_to_num(np.array([size.get(c, np.nan) for c in areas.school_codes])), 1.0)


def prior(cells: pd.DataFrame, areas: AreaLevels, measure: str,
          sizes: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per school (register order): the prior mean — the published (shown) value of its
    municipality × sector, or the country's for its sector where that has no estimate, or the
    country's over all sectors — and the prior variance m(1 − m)/n + sd(m)², n the school's
    published size (`sizes`, else read from the cells; nan where not even the country has an
    estimate)."""
    sector, municipality = _school_sector_and_municipality(areas)
    region = _published(cells, measure, "municipality", "shown")
    region_sd = _published(cells, measure, "municipality", "sd")
    country = _published(cells, measure, "country", "shown")
    country_sd = _published(cells, measure, "country", "sd")
    mean = np.array([region.get(k, np.nan) for k in zip(municipality, sector)])
    sd = np.array([region_sd.get(k, np.nan) for k in zip(municipality, sector)])
    own = np.isfinite(mean) & np.isfinite(sd)
    for key in (sector, np.full(sector.shape, "all")):
        wider = np.array([country.get(s, np.nan) for s in key])
        wider_sd = np.array([country_sd.get(s, np.nan) for s in key])
        mean, sd = np.where(own, mean, wider), np.where(own, sd, wider_sd)
        own = np.isfinite(mean) & np.isfinite(sd)
    mean, sd = np.where(own, mean, np.nan), np.where(own, sd, np.nan)
    m = np.clip(mean, 0.005, 0.995)
    sizes = school_sizes(cells, areas) if sizes is None else sizes
    return mean, m * (1.0 - m) / sizes + np.nan_to_num(sd) ** 2


def covariates(cells: pd.DataFrame, areas: AreaLevels, measure: str) -> np.ndarray:
    """The Fay–Herriot covariates per school (register order): intercept, sector indicators
    (PO the base), the published value of its municipality × sector (shown; the country's
    for the sector where that has no estimate) and the log of its published size."""
    sector, _ = _school_sector_and_municipality(areas)
    mean, _ = prior(cells, areas, measure)
    columns = [np.ones(len(areas.school_codes))]
    columns += [(sector == s).astype(float) for s in SECTORS[1:]]
    columns.append(mean)
    columns.append(np.log1p(school_sizes(cells, areas)))
    return np.column_stack(columns)


def binomial_variance(x: np.ndarray) -> np.ndarray:
    """p(1 − p)/n per school from `covariates` (p kept inside [0.005, 0.995]): the known part
    of the Fay–Herriot model's variance."""
    p = np.clip(x[:, -2], 0.005, 0.995)
    n = np.maximum(np.expm1(x[:, -1]), 1.0)
    return p * (1.0 - p) / n


def model_columns(cells: pd.DataFrame, areas: AreaLevels) -> pd.DataFrame:
    """`cells` with the model columns: the posterior mean and 95% interval of every school
    for `MODEL_MEASURES` (rounded as the direct ones), None elsewhere."""
    out = cells.copy()
    for col in MODEL_COLUMNS:
        out[col] = pd.Series([None] * len(out), index=out.index, dtype=object)
    sizes = school_sizes(out, areas)
    for measure in MODEL_MEASURES:
        rows = out.index[(out["measure"] == measure) & (out["level"] == "school")
                         & (out["sector"] == "all")]
        if len(rows) != len(areas.school_codes):
            continue
        school = out.loc[rows].set_index("area_code").loc[areas.school_codes]
        direct, sd = _number(school["estimate"]), _number(school["sd"])
        mean, variance = prior(out, areas, measure, sizes)
        has = np.isfinite(mean) & np.isfinite(variance)   # none: not even the country's value
        post = beta_posterior(direct[has], sd[has] ** 2, mean[has], variance[has],
                              pupils=sizes[has])
        for col, part in zip(MODEL_COLUMNS, (post.estimate, post.lower, post.upper)):
            values = np.full(len(rows), np.nan)
            values[has] = part
            rounded = np.round(values, 6)
            out.loc[rows, col] = pd.Series(rounded, index=rows, dtype=object).where(np.isfinite(rounded), None)
    return out
