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
    in docs/benchmarks.md, it misses the truth by up to 27 sd off its rounding chain."""
    frames = []
    units = {m.name: m.unit for m in measures}
    for (measure, level), vals in release.cells.items():
        codes = areas.school_codes if level == "school" else areas.codes[level]
        names = areas.school_names if level == "school" else areas.names[level]
        frame = pd.DataFrame({
            "measure": measure, "level": areas.base_level(level), "area_code": codes,
            "area_name": names, "sector": areas.sectors.get(level, "all"),
            **{k: getattr(vals, k) for k in VALUES},
            "unit": units[measure], "noise": vals.noise, "scale": vals.scale})
        frame["_no_estimate"], frame["_unstable"] = vals.no_estimate, vals.unstable
        frames.append(frame)
    cells = pd.concat(frames, ignore_index=True)
    counts = (cells["unit"] == "pupils").to_numpy()
    for col in VALUES:
        values = cells[col].to_numpy(dtype=float)
        if col.startswith("rank") or col == "integer_estimate":
            rounded = np.round(values, 0)
        elif col == "p_vs_country":
            rounded = np.array([float(f"{v:.6g}") if np.isfinite(v) else np.nan for v in values])
        else:
            rounded = np.where(counts, np.round(values, 2), np.round(values, 6))
        cells[col] = pd.Series(rounded, dtype=object).where(np.isfinite(rounded), None)
    cells["scale"] = cells["scale"].round(6)
    cells["flags"] = flags(cells["lower"].to_numpy(dtype=float) <= 0,
                           cells.pop("_no_estimate").to_numpy(), cells.pop("_unstable").to_numpy())
    return cells


def flags(includes_0: np.ndarray, no_estimate: np.ndarray, unstable: np.ndarray) -> list[list[str]]:
    """Per cell: `interval_includes_0`; `no_estimate_denominator_may_be_zero` (a ratio whose
    denominator's interval reaches 0: no estimate, interval [0, 1]); `ratio_unstable` (a
    ratio whose denominator is so uncertain, z²·var/den² ≥ 0.25, that its estimate keeps a
    bias beyond 0.1 sd: docs/privacy.md; the interval still holds)."""
    out = []
    for a, b, c in zip(includes_0, no_estimate, unstable):
        out.append(([FLAG_INCLUDES_0] if a else []) + ([FLAG_NO_ESTIMATE] if b else [])
                   + ([FLAG_UNSTABLE] if c and not b else []))
    return out


FLAG_INCLUDES_0 = "interval_includes_0"
FLAG_NO_ESTIMATE = "no_estimate_denominator_may_be_zero"
FLAG_UNSTABLE = "ratio_unstable"
