"""The published cells of a release: the noisy values `privacy.release.noisy_tables` returns,
laid out as one tidy table (measure × level × area), rounded as published and flagged."""

from __future__ import annotations

import numpy as np
import pandas as pd

from privacy.release import ReleaseTables
from service.register.areas import AreaLevels

#: The value columns of a cell, as `privacy.release.MeasureCells` names them.
VALUES = ("estimate", "shown", "lower", "upper", "sd", "p_vs_country", "integer_estimate", "rank",
          "rank_lower", "rank_upper")


def cells_frame(measures: list, release: ReleaseTables, areas: AreaLevels) -> pd.DataFrame:
    """Every measure × level × area as one tidy table (sector 'all'; a region × sector level
    as its region level with the sector named). The whole-pupil view
    (`integer_estimate`) is a column of this frame but not published (`files.COLUMNS` leaves it out): measured
    in docs/benchmarks.md, it misses the truth by up to 27 sd off its rounding chain.

    Built column by column from the concatenated arrays of every (measure, level), not frame
    by frame: a standard release has some 170,000 cells."""
    units = {m.name: m.unit for m in measures}
    parts: dict[str, list] = {k: [] for k in ("area_code", "area_name", "sector", *VALUES)}
    labels: dict[str, list] = {k: [] for k in ("measure", "level", "unit", "noise", "scale")}
    sizes, no_estimate, unstable = [], [], []
    for (measure, level), vals in release.cells.items():
        codes = areas.school_codes if level == "school" else areas.codes[level]
        names = areas.school_names if level == "school" else areas.names[level]
        size = len(codes)
        sizes.append(size)
        parts["area_code"].append(np.asarray(codes, dtype=object))
        parts["area_name"].append(np.asarray(names, dtype=object))
        parts["sector"].append(np.asarray(areas.sectors[level], dtype=object) if level in areas.sectors
                               else np.full(size, "all", dtype=object))
        for col, value in (("measure", measure), ("level", areas.base_level(level)), ("unit", units[measure]),
                           ("noise", vals.noise), ("scale", vals.scale)):
            labels[col].append(value)
        for col in VALUES:
            parts[col].append(np.broadcast_to(np.asarray(getattr(vals, col), dtype=float), size))
        no_estimate.append(np.broadcast_to(np.asarray(vals.no_estimate, dtype=bool), size))
        unstable.append(np.broadcast_to(np.asarray(vals.unstable, dtype=bool), size))
    column = {k: np.concatenate(v) for k, v in parts.items()}
    for col, values in labels.items():                 # one label per (measure, level)
        column[col] = np.repeat(np.asarray(values, dtype=float if col == "scale" else object), sizes)
    counts = column["unit"] == "pupils"
    data = {"measure": column["measure"], "level": column["level"],
            "area_code": column["area_code"], "area_name": column["area_name"],
            "sector": column["sector"]}
    rounded_lower = None
    for col in VALUES:
        values = column[col]
        if col.startswith("rank") or col == "integer_estimate":
            rounded = np.round(values, 0)
        elif col == "p_vs_country":
            rounded = significant_6(values)
        else:
            rounded = np.where(counts, np.round(values, 2), np.round(values, 6))
        data[col] = pd.Series(rounded, dtype=object).where(np.isfinite(rounded), None)
        if col == "lower":
            rounded_lower = rounded                # the flag reads the published bound
    data["unit"], data["noise"] = column["unit"], column["noise"]
    data["scale"] = column["scale"]
    cells = pd.DataFrame(data)
    cells["scale"] = cells["scale"].round(6)
    cells["flags"] = flags(rounded_lower <= 0, np.concatenate(no_estimate),
                           np.concatenate(unstable))
    return cells


def significant_6(values: np.ndarray) -> np.ndarray:
    """Each finite value rounded to 6 significant digits as Python's ``"%.6g"`` prints it
    (nan and inf kept)."""
    out = np.array(values, dtype=float)
    finite = np.isfinite(out)
    if finite.any():
        out[finite] = np.array(["%.6g" % v for v in out[finite].tolist()], dtype=float)
    return out


def flags(includes_0: np.ndarray, no_estimate: np.ndarray, unstable: np.ndarray) -> list[list[str]]:
    """Per cell: `interval_includes_0`; `no_estimate_denominator_may_be_zero` (a ratio whose
    denominator's interval reaches 0: no estimate, interval [0, 1]); `ratio_unstable` (a
    ratio whose denominator is so uncertain, z²·var/den² ≥ 0.25, that its estimate keeps a
    bias beyond 0.1 sd: docs/privacy.md; the interval still holds). Cells with the same flags
    share one list (read only, as every consumer does: a fresh list per cell cost a third of a
    second per standard release)."""
    a = np.asarray(includes_0, dtype=bool)
    b = np.asarray(no_estimate, dtype=bool)
    c = np.asarray(unstable, dtype=bool) & ~b
    code = a.astype(np.int64) + 2 * b + 4 * c
    combos = [[FLAG_INCLUDES_0] * bool(i & 1) + [FLAG_NO_ESTIMATE] * bool(i & 2)
              + [FLAG_UNSTABLE] * bool(i & 4) for i in range(8)]
    return [combos[i] for i in code.tolist()]


FLAG_INCLUDES_0 = "interval_includes_0"
FLAG_NO_ESTIMATE = "no_estimate_denominator_may_be_zero"
FLAG_UNSTABLE = "ratio_unstable"
