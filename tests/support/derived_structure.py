"""A tiny public structure with a derived region × sector level (issue 26), shared by the
unit and statistical tests of derived cells: 4 samenwerkingsverbanden of 6 schools in 2
provinces, 3 sectors, every region holding schools of each sector."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from privacy.bounds import BoundSpec
from privacy.consistency import Level
from privacy.release import Table

N = 24
REGION = np.repeat(np.arange(4), 6)                       # 4 regions of 6 schools
SECTOR = np.tile(np.array([0, 0, 0, 1, 1, 2]), 4)          # 3 sectors, every region has each
COUNTRY = np.zeros(N, dtype=np.int64)
LEVELS = {"swv": Level("swv", REGION, 4), "province": Level("province", REGION // 2, 2),
          "country": Level("country", COUNTRY, 1), "sector": Level("sector", SECTOR, 3)}
PAIRS = REGION * 3 + SECTOR
DERIVED = {"swv_sector": Level("swv_sector", PAIRS, 12)}
REFERENCE = {"swv_sector": ("sector", np.tile(np.arange(3), 4))}
BOUND = BoundSpec(0, 1)
TABLES = (Table("enrolled", ("enrolled",), BOUND), Table("chronic", ("chronic",), BOUND))
PLAN_LEVELS = ("school", "swv", "province", "country", "sector")


@dataclass(frozen=True)
class Ratio:
    name: str = "chronic_share"
    numerator: tuple[str, ...] = ("chronic",)
    denominator: tuple[str, ...] = ("enrolled",)
    complement: bool = False


@dataclass(frozen=True)
class Count:
    name: str = "enrolled"
    numerator: tuple[str, ...] = ("enrolled",)
    denominator: tuple[str, ...] = ()
    complement: bool = False


def leaves(rng) -> dict[str, np.ndarray]:
    enrolled = rng.integers(20, 400, N)
    return {"enrolled": enrolled, "chronic": rng.binomial(enrolled, 0.15)}
