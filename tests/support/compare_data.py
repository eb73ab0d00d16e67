"""A database holding the real register and a standard release whose cells are built here,
so the truth behind every compared number is known (tests of compare, charts and the page)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from privacy.budget import Rho
from service.db import connect
from service.register.source import load_register
from dataclasses import dataclass, field

from service.releases.publish import Computed, ReleaseSpec, publish, question_text
from service.settings import Settings

Z = 1.959963984540054
LEVELS = ("country", "province", "rmc", "swv", "municipality")
#: (estimate, sd) set by hand for the pairs the tests look at (absence_rate)
FIXED = {("municipality", "GM0363"): (0.080, 0.002),   # Amsterdam
         ("municipality", "GM0599"): (0.082, 0.002),   # Rotterdam: within the noise of Amsterdam
         ("municipality", "GM0014"): (0.050, 0.002),   # Groningen: clearly lower
         ("country", "NL"): (0.064, 0.0002)}


def build_cells(con, seed: int = 11) -> pd.DataFrame:
    """absence_rate (rate) and enrolled (pupils) at every level but school."""
    rng = np.random.default_rng(seed)
    areas = con.execute("SELECT level, code, name FROM area ORDER BY level, code").fetchall()
    rows = []
    for level, code, name in areas:
        lvl = "swv" if level in ("swv_po", "swv_vo") else level
        if lvl not in LEVELS:
            continue
        est, sd = FIXED.get((lvl, code), (float(rng.uniform(0.04, 0.09)), float(rng.uniform(0.001, 0.01))))
        rows.append(["absence_rate", lvl, code, name, "all", est, max(est - Z * sd, 0.0),
                     est + Z * sd, sd, "rate", "discrete_gaussian", 1.0, []])
        n = 1_000_000 if lvl == "country" else int(rng.integers(500, 20000))
        rows.append(["enrolled", lvl, code, name, "all", float(n), float(n - 40), float(n + 40),
                     20.0, "pupils", "discrete_gaussian", 20.0, []])
    for sector, est in (("PO", 0.05), ("VO", 0.08)):
        rows.append(["absence_rate", "country", "NL", "Nederland", sector, est, est - 0.001,
                     est + 0.001, 0.0005, "rate", "discrete_gaussian", 1.0, []])
    return pd.DataFrame(rows, columns=["measure", "level", "area_code", "area_name", "sector",
                                       "estimate", "lower", "upper", "sd", "unit", "noise",
                                       "scale", "flags"])


@dataclass(frozen=True, kw_only=True)
class Fixed(ReleaseSpec):
    """A release whose cells are given (hand-built)."""

    cells: pd.DataFrame = field(compare=False)

    def compute(self, con) -> Computed:
        return Computed(self.cells, {"mechanism": "discrete_gaussian"})


def make_database(path: Path) -> tuple[Settings, str]:
    """A DuckDB file with the register and one standard release; returns settings and its id."""
    settings = Settings(mode="dev", db=path)
    con = connect(path)
    load_register(con)
    cells = build_cells(con)
    stored = publish(con, settings, Fixed(kind="standard", pool="standard", dataset="2025-2026",
                                          question=question_text({"test": "compare"}),
                                          rho=Rho.of("0.01"), cells=cells))
    con.close()
    return settings, stored.record.release_id
