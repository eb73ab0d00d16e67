"""Model estimates for schools beside their direct estimates (issue 26): the Fay–Herriot model
(`privacy.small_area`) fitted to the published school cells of a measure, with public
covariates only — the school's sector (register), the published value of its municipality ×
sector, and its published size — and the known noise variance (the published sd²) as the
sampling variance. Post-processing of published values: `model_columns` takes the cells as
published and the public structure, nothing else, and spends no budget.

The model estimate never replaces the direct one: it is published beside it, in its own
columns (`model_estimate`, `model_lower`, `model_upper`), and verdicts stay with the direct
estimate (docs/privacy.md, "Small-area estimates")."""

from __future__ import annotations

import numpy as np
import pandas as pd

from privacy.small_area import fay_herriot
from service.register.areas import AreaLevels

#: The school measures that get a model estimate (shares and rates of the standard release).
MODEL_MEASURES = ("chronic_share", "severe_share", "absence_rate")
MODEL_COLUMNS = ("model_estimate", "model_lower", "model_upper")
SECTORS = ("PO", "SBO", "SO", "VSO", "VO")


def _number(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)


def covariates(cells: pd.DataFrame, areas: AreaLevels, measure: str) -> np.ndarray:
    """Per school (register order): intercept, sector indicators (PO the base), the published
    value of its municipality × sector (shown; the country's for the sector where that has no
    estimate) and the log of its published size (cut at 0)."""
    sector_group = areas.levels["sector"].group_of_leaf
    sector = np.array(areas.codes["sector"])[sector_group]
    municipality = np.array(areas.codes["municipality"])[areas.levels["municipality"].group_of_leaf]
    region = cells[(cells["measure"] == measure) & (cells["level"] == "municipality")
                   & (cells["sector"] != "all")]
    region_value = dict(zip(zip(region["area_code"], region["sector"]), _number(region["shown"])))
    country = cells[(cells["measure"] == measure) & (cells["level"] == "country")]
    national = dict(zip(country["sector"], _number(country["shown"])))
    enrolled = cells[(cells["measure"] == "enrolled") & (cells["level"] == "school")]
    size = dict(zip(enrolled["area_code"], _number(enrolled["shown"])))
    columns = [np.ones(len(areas.school_codes))]
    columns += [(sector == s).astype(float) for s in SECTORS[1:]]
    # a municipality × sector without an estimate: the country's value for the sector
    value = np.array([region_value.get((m, s), np.nan) for m, s in zip(municipality, sector)])
    columns.append(np.where(np.isfinite(value), value, np.array([national.get(s, np.nan) for s in sector])))
    sizes = np.array([size.get(c, np.nan) for c in areas.school_codes])
    columns.append(np.log1p(np.maximum(np.nan_to_num(sizes), 0.0)))
    return np.column_stack(columns)


def binomial_variance(x: np.ndarray) -> np.ndarray:
    """p(1 − p)/n per school: how much a school's true share varies around the share of its
    kind of school (p: its municipality × sector's published value, kept inside [0.005,
    0.995]; n: its published size, at least 1) — `privacy.small_area.fay_herriot`'s known
    part of the model variance."""
    p = np.clip(x[:, -2], 0.005, 0.995)
    n = np.maximum(np.expm1(x[:, -1]), 1.0)
    return p * (1.0 - p) / n


def model_columns(cells: pd.DataFrame, areas: AreaLevels) -> pd.DataFrame:
    """`cells` with the model columns: the Fay–Herriot estimate and 95% interval of every
    school for `MODEL_MEASURES` (rounded as the direct ones), None elsewhere."""
    out = cells.copy()
    for col in MODEL_COLUMNS:
        out[col] = pd.Series([None] * len(out), index=out.index, dtype=object)
    for measure in MODEL_MEASURES:
        rows = out.index[(out["measure"] == measure) & (out["level"] == "school")]
        if len(rows) != len(areas.school_codes):
            continue
        school = out.loc[rows].set_index("area_code").loc[areas.school_codes]
        direct, sd = _number(school["estimate"]), _number(school["sd"])
        x = covariates(out, areas, measure)
        fit = fay_herriot(direct, sd ** 2, x, known_model_variance=binomial_variance(x))
        for col, values in zip(MODEL_COLUMNS, (fit.estimate, fit.lower, fit.upper)):
            rounded = np.round(values, 6)
            out.loc[rows, col] = pd.Series(rounded, index=rows, dtype=object).where(np.isfinite(rounded), None)
    return out
