"""The public register: real 2025 geography, synthetic school locations and SWVs.

Municipalities, provinces and RMC regions are real (CBS 2025 codes and names, package data
`service/data/geo`, CC BY 4.0 "Bron: CBS / Kadaster, via PDOK (bewerkt: cartomap/nl)").
Populations (approximate for the largest cities, lognormal for the rest, ≈ 18 million in
total), school locations, their ids and names, and the samenwerkingsverbanden are synthetic.
The register is public data and deterministic: the same on every machine (fixed seed
`REGISTER_SEED`), independent of any pupil seed. See docs/register.md.
"""

from __future__ import annotations

#: `aanwezig synth` (service.synth.uploads.write_synthetic) leaves this file at the root of the
#: folder it writes; ingesting such a folder (service.ingest.directory) records its batches as
#: synthetic in the database, and `aanwezig evaluate` (which shows true values) runs only on a
#: school year whose active batches are all synthetic.
SYNTHETIC_MARKER = "SYNTHETIC-DATA.txt"

import string
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import duckdb
import numpy as np
import pandas as pd

from service import db
from service.register.calendar import calendar_frame, year_bounds
from service.register.partnerships import build_swvs, dual_memberships, municipality_adjacency

REGISTER_SEED = 2025
NATIONAL_POPULATION = 18_000_000
SCHOOL_COUNTS = {"PO": 6_410, "SBO": 290, "SO": 170, "VSO": 150, "VO": 1_400}
SWV_COUNTS = {"PO": 77, "VO": 75}
DAY_MINUTES = {"PO": 300, "SBO": 300, "SO": 300, "VSO": 360, "VO": 360}
SWV_KIND = {"PO": "PO", "SBO": "PO", "SO": "PO", "VSO": "VO", "VO": "VO"}
HOLIDAY_REGION = {
    **dict.fromkeys(["PV20", "PV21", "PV22", "PV23", "PV24", "PV27"], "noord"),
    **dict.fromkeys(["PV25", "PV26", "PV28"], "midden"),
    **dict.fromkeys(["PV29", "PV30", "PV31"], "zuid"),
}
# Approximate populations (rounded, ~2024) of the largest municipalities, and the islands.
PINNED_POPULATION = {
    "Amsterdam": 930_000, "Rotterdam": 670_000, "'s-Gravenhage": 560_000, "Utrecht": 370_000,
    "Eindhoven": 245_000, "Groningen": 240_000, "Tilburg": 230_000, "Almere": 220_000,
    "Breda": 185_000, "Nijmegen": 180_000, "Apeldoorn": 167_000, "Arnhem": 167_000,
    "Haarlem": 165_000, "Enschede": 160_000, "Haarlemmermeer": 160_000,
    "Amersfoort": 160_000, "'s-Hertogenbosch": 160_000, "Zaanstad": 158_000,
    "Zwolle": 132_000, "Leiden": 128_000, "Zoetermeer": 127_000, "Leeuwarden": 126_000,
    "Maastricht": 123_000, "Ede": 121_000, "Dordrecht": 121_000, "Alphen aan den Rijn": 115_000,
    "Westland": 114_000, "Alkmaar": 111_000, "Emmen": 108_000, "Delft": 106_000,
    "Venlo": 103_000, "Deventer": 102_000,
    "Schiermonnikoog": 950, "Vlieland": 1_200, "Rozendaal": 1_700, "Ameland": 3_800,
    "Terschelling": 4_900, "Texel": 13_700,
}
_STEMS = (
    "De Regenboog", "De Wegwijzer", "De Zonnewijzer", "Het Kompas", "De Fontein", "De Klimop",
    "De Vlinder", "De Ark", "De Horizon", "Het Palet", "De Springplank", "De Bron", "Het Anker",
    "De Linde", "De Wilgen", "De Eik", "De Meander", "Het Mozaïek", "De Zevensprong",
    "De Sterrenwacht", "Het Baken", "De Tweemaster", "De Kameleon", "De Schakel", "De Vuurtoren",
    "De Boomgaard", "Het Startpunt", "De Vlieger", "De Molenwiek", "De Torenuil", "De Esch",
    "Sint Jozef", "Sint Maarten", "Prins Willem-Alexander", "Koningin Beatrix", "Het Talent",
    "De Wereldwijzer", "De Windroos", "De Zonnebloem", "Het Klavertje", "De Kastanje",
    "De Buitenhof", "Het Lichtpunt", "De Piramide", "De Triangel", "De Octopus", "De Parel",
)
_PREFIX = {
    "PO": ("Basisschool", "OBS", "CBS", "RKBS", "IKC", "Daltonschool", "Montessorischool",
           "Jenaplanschool"),
    "SBO": ("SBO",), "SO": ("SO",), "VSO": ("VSO",),
}
_VO_KINDS = ("Stedelijk College", "Christelijk Lyceum", "Stedelijk Gymnasium", "Het Lyceum",
             "Scholengemeenschap", "Vakcollege", "Praktijkschool", "Montessori College",
             "Dalton College", "Katholieke Scholengemeenschap", "Het Atheneum", "Technasium")


@dataclass(frozen=True)
class Register:
    """The public register. `areas` and `schools` have exactly the columns (and order) of the
    `area` and `school` tables; `population` is the synthetic population per municipality
    code; `adjacency` the municipality neighbours (shared boundary or water link);
    `swv_members` the municipalities of every SWV (a municipality in two SWVs is in both)."""

    areas: pd.DataFrame
    schools: pd.DataFrame
    population: pd.Series
    adjacency: dict[str, frozenset[str]]
    swv_members: dict[str, frozenset[str]]


def municipalities() -> pd.DataFrame:
    """The 342 municipalities of 2025 with province and RMC region (package data)."""
    path = resources.files("service.data.geo").joinpath("municipalities_2025.csv")
    with path.open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str)


def _population(munis: pd.DataFrame, rng: np.random.Generator) -> pd.Series:
    names = munis["municipality_name"]
    missing = set(PINNED_POPULATION) - set(names)
    if missing:
        raise LookupError(f"pinned municipalities not in the 2025 list: {sorted(missing)}")
    pinned = names.map(PINNED_POPULATION)
    free = pinned.isna().to_numpy()
    drawn = np.clip(rng.lognormal(np.log(30_000), 0.6, size=int(free.sum())), 6_000, 95_000)
    drawn *= (NATIONAL_POPULATION - pinned.sum()) / drawn.sum()
    pop = pinned.to_numpy(dtype=float, copy=True)
    pop[free] = np.round(drawn, -2)
    return pd.Series(pop.astype(np.int64), index=munis["municipality_code"].to_numpy())


def _apportion(weights: np.ndarray, total: int, floor: np.ndarray) -> np.ndarray:
    """Largest remainder over `weights` with a per-item minimum `floor`."""
    rest = total - int(floor.sum())
    quota = weights / weights.sum() * rest
    seats = np.floor(quota).astype(int)
    extra = np.argsort(-(quota - seats), kind="stable")[: rest - int(seats.sum())]
    seats[extra] += 1
    return seats + floor


def _school_counts(pop: pd.Series, rng: np.random.Generator) -> dict[str, np.ndarray]:
    p = pop.to_numpy(dtype=float)
    noise = lambda: rng.lognormal(0.0, 0.2, size=len(p))  # noqa: E731
    zero = np.zeros(len(p), dtype=int)
    return {
        # small municipalities have more (and smaller) schools per inhabitant
        "PO": _apportion(p**0.85 * noise(), SCHOOL_COUNTS["PO"], np.ones(len(p), dtype=int)),
        "SBO": _apportion(np.where(p >= 25_000, p, 0) * noise(), SCHOOL_COUNTS["SBO"], zero),
        "SO": _apportion(np.where(p >= 30_000, p, 0) * noise(), SCHOOL_COUNTS["SO"], zero),
        "VSO": _apportion(np.where(p >= 30_000, p, 0) * noise(), SCHOOL_COUNTS["VSO"], zero),
        "VO": _apportion(np.where(p >= 12_000, p, 0) * noise(), SCHOOL_COUNTS["VO"], zero),
    }


def _brin_codes(n: int, rng: np.random.Generator) -> list[str]:
    picks = rng.choice(100 * 26 * 26, size=n, replace=False)
    letters = string.ascii_uppercase
    return [f"{v // 676:02d}{letters[(v % 676) // 26]}{letters[v % 26]}" for v in picks]


def _school_name(sector: str, town: str, used: set[str], rng: np.random.Generator) -> str:
    for _ in range(200):
        if sector == "VO":
            kind = _VO_KINDS[rng.integers(len(_VO_KINDS))]
            stem = "" if rng.random() < 0.5 else " " + _STEMS[rng.integers(len(_STEMS))]
            name = f"{kind}{stem}, {town}"
        else:
            prefixes = _PREFIX[sector]
            name = f"{prefixes[rng.integers(len(prefixes))]} {_STEMS[rng.integers(len(_STEMS))]}, {town}"
        if name not in used:
            used.add(name)
            return name
    raise RuntimeError("ran out of school names")  # pragma: no cover - 47 × 8 stems per town


def _schools(munis: pd.DataFrame, pop: pd.Series, swv: dict[str, dict[str, str]],
             dual: dict[str, dict[str, str]], rng: np.random.Generator) -> pd.DataFrame:
    counts = _school_counts(pop, rng)
    rows = []
    for sector in ("PO", "SBO", "SO", "VSO", "VO"):
        for i, row in enumerate(munis.itertuples(index=False)):
            kind = SWV_KIND[sector]
            m = row.municipality_code
            for j in range(int(counts[sector][i])):
                second = dual[kind].get(m)
                # schools of a municipality in two SWVs: about a third go to the second one
                code = second if second and j % 3 == 1 else swv[kind][m]
                rows.append((sector, m, row.municipality_name, row.province_code, row.rmc_code,
                             code, HOLIDAY_REGION[row.province_code]))
    brins = _brin_codes(len(rows), rng)
    used: set[str] = set()
    out, prev, vest = [], None, 0
    for (sector, m, town, pv, rmc, code, region), brin in zip(rows, brins):
        # about one in eight schools is a second location (vestiging) of the previous BRIN
        if prev and prev[0] == (sector, m) and vest < 9 and rng.random() < 0.12:
            vest += 1
            school_id = f"{prev[1]}{vest:02d}"
        else:
            prev, vest = ((sector, m), brin), 0
            school_id = f"{brin}00"
        out.append((school_id, _school_name(sector, town, used, rng), sector, m, pv, rmc, code,
                    region))
    cols = ["school_id", "name", "sector", "municipality_code", "province_code", "rmc_code",
            "swv_code", "holiday_region"]
    return pd.DataFrame(out, columns=cols).sort_values("school_id", ignore_index=True)


def _areas(munis: pd.DataFrame, swv_areas: dict[str, pd.DataFrame]) -> pd.DataFrame:
    rows = [("country", "NL", "Nederland", None, None)]
    prov = munis.drop_duplicates("province_code").sort_values("province_code")
    rows += [("province", r.province_code, r.province_name, "country", "NL")
             for r in prov.itertuples()]
    rows += [("municipality", r.municipality_code, r.municipality_name, "province",
              r.province_code) for r in munis.sort_values("municipality_code").itertuples()]
    rmc = munis.drop_duplicates("rmc_code").sort_values("rmc_code")
    rows += [("rmc", r.rmc_code, r.rmc_name, "country", "NL") for r in rmc.itertuples()]
    for kind in ("PO", "VO"):
        rows += [(f"swv_{kind.lower()}", r.code, r.name, "country", "NL")
                 for r in swv_areas[kind].sort_values("code").itertuples()]
    return pd.DataFrame(rows, columns=["level", "code", "name", "parent_level", "parent_code"])


@lru_cache(maxsize=1)
def _build() -> Register:
    rng = np.random.default_rng(REGISTER_SEED)
    munis = municipalities()
    pop = _population(munis, rng)
    adj = municipality_adjacency(munis)
    counts_for_dual = _school_counts(pop, np.random.default_rng(REGISTER_SEED + 1))
    swv_areas, swv, dual = {}, {}, {}
    for kind, sectors in (("PO", ("PO",)), ("VO", ("VO",))):
        swv_areas[kind], swv[kind] = build_swvs(munis, pop, kind, SWV_COUNTS[kind], rng)
        many = [m for i, m in enumerate(munis["municipality_code"])
                if sum(counts_for_dual[s][i] for s in sectors) >= 4]
        dual[kind] = dual_memberships(swv[kind], adj, many, 6, rng)
    schools = _schools(munis, pop, swv, dual, rng)
    members: dict[str, set[str]] = {}
    for kind in ("PO", "VO"):
        for m, code in [*swv[kind].items(), *dual[kind].items()]:
            members.setdefault(code, set()).add(m)
    frozen = {code: frozenset(ms) for code, ms in sorted(members.items())}
    return Register(_areas(munis, swv_areas), schools, pop, adj, frozen)


def build_register() -> Register:
    """The public register (deterministic; a fresh copy of the cached frames)."""
    reg = _build()
    return Register(reg.areas.copy(), reg.schools.copy(), reg.population.copy(),
                    dict(reg.adjacency), dict(reg.swv_members))


def load_register(con: duckdb.DuckDBPyConnection,
                  school_years: tuple[str, ...] = ("2025-2026",), *,
                  database: db.Database | None = None) -> None:
    """Fill `area`, `school`, `sector_day`, `school_year` and `calendar_day`.

    Idempotent: the register is loaded only into an empty `area` table, and a school year
    (with its calendar) only if it is not there yet. One transaction; announced to
    `database` (`db.REGISTER`) after it commits."""
    con.execute("BEGIN TRANSACTION")
    try:
        if con.execute("SELECT count(*) FROM area").fetchone()[0] == 0:
            reg = build_register()
            areas, schools = reg.areas, reg.schools  # noqa: F841 (read by DuckDB by name)
            days = pd.DataFrame(list(DAY_MINUTES.items()), columns=["sector", "day_minutes"])  # noqa: F841
            con.execute("INSERT INTO area SELECT * FROM areas")
            con.execute("INSERT INTO school SELECT * FROM schools")
            con.execute("INSERT INTO sector_day SELECT * FROM days ON CONFLICT DO NOTHING")
        for year in school_years:
            if con.execute("SELECT count(*) FROM school_year WHERE school_year = ?",
                           [year]).fetchone()[0]:
                continue
            first, last = year_bounds(year)
            con.execute("INSERT INTO school_year VALUES (?, ?, ?)", [year, first, last])
            cal = calendar_frame(year)  # noqa: F841
            con.execute("INSERT INTO calendar_day SELECT * FROM cal")
        con.execute("COMMIT")
        db.or_detached(database).changed(db.REGISTER)
    except Exception:
        con.execute("ROLLBACK")
        raise
