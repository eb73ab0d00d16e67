"""The weekly series: one release per school week, under one yearly pupil-level budget.

docs/weekly.md describes the product; privacy/continual.py holds the mechanism and its proof.

Flow of `release_week(con, settings, school_year, week)`:
1. the plan (`weekly_plan` table, written once at the first week): the tree horizon T (school
   weeks of the year, from the public calendar) and the weekly pool's ρ; from it, deterministic
   and public, one ρ and one tree (height chosen per stream) per total × table, and the
   micro-ρ every week costs (`privacy.continual.plan_tree`);
2. weeks are released in order; a week's release is immutable and asking again is free;
3. one SQL scan (sql/weekly_leaf_totals.sql) gives per school and week the sums of the
   clamped per-pupil contributions; they stay in memory; the nodes completing this week are
   summed to each table's cells (areas from the public register; sectors) and noised;
4. the week's measures (that week, rolling 4 weeks, year to date) are post-processed from the
   noisy nodes of this and earlier week releases, with exact variances and 95% intervals;
5. `service.release.publish` signs, charges the week's planned share of the `weekly` pool and
   stores the release in one transaction. Noisy nodes are part of the release (measure
   `node:<total>:<first>-<last>`): they are public DP outputs that later weeks build on.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

import duckdb
import numpy as np
import pandas as pd

import sql
from service import errors
from service.db import Database, or_detached, run_statement
from privacy.bounds import BoundSpec
from privacy.budget import Rho
from privacy.continual import (Node, StreamBound, TreePlan, TreeShape, choose_height,
                               noise_nodes, plan_tree, range_estimate)
from privacy.ledger import StoredRelease
from privacy.planner import LevelDemand, split_budget
from privacy.statistics import count_intervals, ratio_intervals
from service.register.areas import area_structure
from service.releases.budget import ensure_budget
from service.releases.publish import Computed, ReleaseSpec, publish, question_text
from service.releases.stored import cells, get_release
from service.settings import Settings

#: One school week of the longest school day (5 × 360 minutes, VO/VSO): the per-pupil weekly
#: clamp of possible and absent minutes.
WEEK_CAP_MINUTES = 5 * 360
DEFAULT_WEEKS = 41
KIND = "week"
SECTORS = ("PO", "SBO", "SO", "VSO", "VO")
TABLES = ("country", "province", "rmc", "swv", "municipality", "sector")
TABLE_WEIGHTS = {"country": 0.5, "province": 0.5, "rmc": 1.0, "swv": 1.5, "municipality": 2.0,
                 "sector": 0.5}
ALL_WEEKS = {"week": 1.0, "rolling4": 1.0, "ytd": 1.0}


@dataclass(frozen=True)
class WeeklyTotal:
    """A weekly integer total over pupils: its per-pupil bound, yearly bound, weight, workload."""

    name: str
    per_week: BoundSpec
    year_total: int | None
    weight: float
    workload: tuple[tuple[str, float], ...]


TOTALS = (
    WeeklyTotal("possible", BoundSpec(0, WEEK_CAP_MINUTES), None, 0.5, tuple(ALL_WEEKS.items())),
    WeeklyTotal("absent", BoundSpec(0, WEEK_CAP_MINUTES), None, 1.0, tuple(ALL_WEEKS.items())),
    WeeklyTotal("pupils", BoundSpec(0, 1), None, 0.5, tuple(ALL_WEEKS.items())),
    WeeklyTotal("chronic", BoundSpec(0, 1), None, 1.0, tuple(ALL_WEEKS.items())),
    # counted in the one week a pupil FIRST reaches four fully absent weeks: at most 1 a year
    WeeklyTotal("new_long_term", BoundSpec(0, 1), 1, 1.0, (("week", 0.25), ("ytd", 1.0))),
)

#: (measure, unit, numerator, denominator, complement, range) — range: week | rolling4 | ytd
MEASURES = (
    ("attendance_rate_week", "rate", "absent", "possible", True, "week"),
    ("attendance_rate_4wk", "rate", "absent", "possible", True, "rolling4"),
    ("attendance_rate_ytd", "rate", "absent", "possible", True, "ytd"),
    ("pupils_week", "pupils", "pupils", None, False, "week"),
    ("chronic_pupils_week", "pupils", "chronic", None, False, "week"),
    ("chronic_share_week", "share", "chronic", "pupils", False, "week"),
    ("chronic_share_4wk", "share", "chronic", "pupils", False, "rolling4"),
    ("new_long_term_week", "pupils", "new_long_term", None, False, "week"),
    ("new_long_term_ytd", "pupils", "new_long_term", None, False, "ytd"),
)


class WeeklyError(errors.ServiceError):
    """Base of the weekly series' errors."""


class WeekOutOfRange(WeeklyError, errors.NotFound, ValueError):
    def __init__(self, week: int, weeks: int) -> None:
        self.week, self.weeks = week, weeks
        super().__init__(f"week {week} is outside the school year's weeks 1..{weeks}")


class WeekOutOfOrder(WeeklyError, errors.Conflict):
    """Weeks are released in order: an earlier week is not released yet."""

    def __init__(self, week: int, missing: int) -> None:
        self.week, self.missing = week, missing
        super().__init__(f"week {week} cannot be released before week {missing}")


class NoWeeklyData(WeeklyError, errors.Conflict):
    """No weekly records at all for the week (nothing uploaded/derived yet)."""

    def __init__(self, school_year: str, week: int) -> None:
        self.school_year, self.week = school_year, week
        super().__init__(f"no weekly records for {school_year} week {week}: derive first")


# ── the plan ─────────────────────────────────────────────────────────────────────────────
@lru_cache(maxsize=16)
def weekly_plans(weeks: int, rho_micro: int) -> dict[tuple[str, str], TreePlan]:
    """One tree plan per (total, table); public: depends on (T, ρ) and declared bounds only."""
    demands = [LevelDemand(f"{t.name}@{tab}", t.weight * TABLE_WEIGHTS[tab] / t.per_week.upper**2,
                           t.per_week) for t in TOTALS for tab in TABLES]
    split = split_budget(demands, Rho.from_micro(rho_micro), "min_weighted_variance")
    plans = {}
    for t in TOTALS:
        bound = StreamBound(t.per_week, weeks, t.year_total)
        shape = TreeShape(weeks, choose_height(bound, dict(t.workload)))
        for tab in TABLES:
            plans[(t.name, tab)] = plan_tree(shape, bound, split[f"{t.name}@{tab}"])
    return plans


def plan_for(con: duckdb.DuckDBPyConnection, school_year: str,
             settings: Settings | None = None, database: Database | None = None) -> tuple[int, int]:
    """(weeks, rho_micro) of the year's series, written once at the first use (the weekly
    pool of the year's budget, opened from `settings` if it has none yet)."""
    con.execute(sql.load("weekly_plan"))
    row = con.execute("SELECT weeks, rho_micro FROM weekly_plan WHERE school_year = ?",
                      [school_year]).fetchone()
    if row:
        return int(row[0]), int(row[1])
    ensure_budget(con, school_year, settings, database=database)
    weeks = con.execute("SELECT max(week_index) FROM calendar_day WHERE school_year = ?",
                        [school_year]).fetchone()[0] or DEFAULT_WEEKS
    cap = con.execute("SELECT cap_micro FROM budget_cap WHERE dataset = ? AND scope = 'pool' "
                      "AND pool = 'weekly'", [school_year]).fetchone()[0]
    con.execute("INSERT INTO weekly_plan VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [school_year, int(weeks), int(cap), datetime.now(UTC).replace(tzinfo=None)])
    return plan_for(con, school_year)


def week_micro(plans: dict[tuple[str, str], TreePlan], week: int) -> int:
    """What releasing `week` costs over all tables (micro-ρ)."""
    return sum(p.week_micro(week) for p in plans.values())


# ── public structure: the cells of each table ────────────────────────────────────────────
@dataclass(frozen=True)
class Table:
    group_of_leaf: np.ndarray
    level: list[str]
    codes: list[str]
    names: list[str]
    sectors: list[str]


def tables(con: duckdb.DuckDBPyConnection, database: Database | None = None
           ) -> tuple[list[str], dict[str, Table]]:
    structure = area_structure(con, database=database)
    areas = structure.reconciled
    out = {}
    for tab in TABLES[:-1]:
        lvl = areas.levels[tab]
        n = lvl.n_groups
        out[tab] = Table(lvl.group_of_leaf, [tab] * n, areas.codes[tab], areas.names[tab], ["all"] * n)
    group = np.array([SECTORS.index(s) for s in structure.school_sectors], dtype=np.int64)
    out["sector"] = Table(group, ["country"] * 5, ["NL"] * 5, ["Nederland"] * 5, list(SECTORS))
    return areas.school_codes, out


# ── releasing a week ─────────────────────────────────────────────────────────────────────
def week_releases(con: duckdb.DuckDBPyConnection, school_year: str) -> dict[int, str]:
    rows = con.execute("SELECT release_id, spec_json FROM release WHERE kind = ? AND dataset = ?",
                       [KIND, school_year]).fetchall()
    return {int(json.loads(spec)["week"]): rid for rid, spec in rows}


def release_cells(con: duckdb.DuckDBPyConnection, release_id: str,
                  database: Database | None = None) -> pd.DataFrame:
    """The cells of a stored (immutable) week release; parsed once per `database`
    (its `weekly_cells`)."""
    return or_detached(database).weekly_cells.get(
        release_id, lambda: cells(get_release(con, release_id)))


def _stored_nodes(con, school_year: str, needed: set[Node], cell_index,
                  database: Database | None = None) -> dict:
    """The noisy node vectors of `needed` (all ending before this week) from the stored week
    releases: each earlier week's payload is read once, and only the nodes asked for are
    matched to their table's cells (vectorised: a week release holds every area × node)."""
    out: dict[tuple[str, str], dict[Node, np.ndarray]] = {}
    by_week = week_releases(con, school_year)
    wanted = {(n.start, n.end) for n in needed}
    lookups = {tab: (pd.MultiIndex.from_tuples(list(index)), np.fromiter(index.values(), np.int64), size)
               for tab, (index, size) in cell_index.items()}
    for week in sorted({n.end for n in needed}):
        frame = release_cells(con, by_week[week], database)
        frame = frame[frame["measure"].str.startswith("node:")]
        for measure, part in frame.groupby("measure", sort=False):
            _, total, span = measure.split(":")
            start, end = (int(x) for x in span.split("-"))
            if (start, end) not in wanted:
                continue
            keys = pd.MultiIndex.from_arrays([part["level"], part["area_code"], part["sector"]])
            estimates = part["estimate"].to_numpy(dtype=float)
            height = (end - start + 1).bit_length() - 1
            for tab, (tab_keys, positions, size) in lookups.items():
                at = tab_keys.get_indexer(keys)
                hit = at >= 0
                if hit.sum() != size:
                    continue
                vec = np.zeros(size, dtype=np.int64)
                vec[positions[at[hit]]] = estimates[hit].astype(np.int64)
                out.setdefault((total, tab), {})[Node(end, height, start)] = vec
    return out


def _leaf_totals(con, school_year: str, first: int, last: int, schools: list[str],
                 open_week: int = 1) -> dict[str, np.ndarray]:
    """Per total: a (schools × weeks first..last) matrix of clamped sums. Private, in memory.
    `open_week`: the first week not yet released (a pupil newly reaching long-term absence
    inside a released week counts in this week; pupils already counted keep their week)."""
    params = {"school_year": school_year, "first": first, "last": last, "cap": WEEK_CAP_MINUTES,
              "open": open_week}
    *prepare, totals = sql.statements("weekly_leaf_totals")
    for statement in prepare:
        run_statement(con, statement, params)
    used = set(re.findall(r"\$([a-z_]+)", totals))
    frame = con.execute(totals, {k: v for k, v in params.items() if k in used}).df()
    index = {s: i for i, s in enumerate(schools)}
    rows = frame["school_id"].map(index).to_numpy()
    cols = frame["week_index"].to_numpy() - first
    out = {}
    for t in TOTALS:
        mat = np.zeros((len(schools), last - first + 1), dtype=np.int64)
        np.add.at(mat, (rows, cols), frame[t.name].to_numpy(dtype=np.int64))
        out[t.name] = mat
    return out


def node_truths(con, school_year: str, week: int, plans, schools, tabs) -> dict:
    """The true cell vectors of the nodes completing in `week`, per (total, table), from the
    data as they stand now (private, in memory). Fixes the week of the pupils first counted
    in the once-a-year stream now, so no later correction counts them again."""
    completing = {key: plan.shape.completing(week) for key, plan in plans.items()}
    first = min(n.start for nodes in completing.values() for n in nodes)
    leaf = _leaf_totals(con, school_year, first, week, schools, open_week=week)
    run_statement(con, sql.load("weekly_count_long_term"), {"school_year": school_year, "week": week})
    out = {}
    for (total, tab), nodes in completing.items():
        table = tabs[tab]
        n_cells = len(table.codes)
        out[(total, tab)] = {
            n: np.bincount(table.group_of_leaf, weights=leaf[total][:, n.start - first:n.end - first + 1]
                           .sum(axis=1), minlength=n_cells).round().astype(np.int64) for n in nodes}
    return out


def compute_week(con, school_year: str, week: int, weeks: int, rho_micro: int,
                 database: Database | None = None) -> Computed:
    plans = weekly_plans(weeks, rho_micro)
    schools, tabs = tables(con, database)
    noisy: dict[tuple[str, str], dict[Node, np.ndarray]] = {
        key: noise_nodes(truth, plans[key])
        for key, truth in node_truths(con, school_year, week, plans, schools, tabs).items()}
    ranges = {"week": (week, week), "rolling4": (max(1, week - 3), week), "ytd": (1, week)}
    needed = {n for (t, tab), p in plans.items() for r in ranges.values() for n in p.shape.cover(*r)}
    cell_index = {tab: ({(lv, c, s): i for i, (lv, c, s) in enumerate(zip(t.level, t.codes, t.sectors))},
                        len(t.codes)) for tab, t in tabs.items()}
    earlier = _stored_nodes(con, school_year, {n for n in needed if n.end < week}, cell_index,
                            database)
    for key, nodes in earlier.items():
        for node, vec in nodes.items():
            noisy.setdefault(key, {}).setdefault(node, vec)
    frames = [_node_rows(noisy, plans, tabs, week), _measure_rows(noisy, plans, tabs, ranges)]
    method = {"mechanism": "binary-tree continual release (DNPR10; CSS11), discrete Gaussian (OpenDP)",
              "unit": "one pupil over the whole school year", "weeks": weeks,
              "week_cap_minutes": WEEK_CAP_MINUTES, "alpha": 0.05,
              "trees": {f"{t}@{tab}": p.describe() for (t, tab), p in plans.items()},
              "docs": "docs/weekly.md"}
    return Computed(pd.concat(frames, ignore_index=True), method)


def _frame(tab: Table, **cols) -> pd.DataFrame:
    return pd.DataFrame({"level": tab.level, "area_code": tab.codes, "area_name": tab.names,
                         "sector": tab.sectors, **cols})


def _node_rows(noisy, plans, tabs, week) -> pd.DataFrame:
    frames = []
    for (total, tab), nodes in noisy.items():
        plan = plans[(total, tab)]
        for node, vec in nodes.items():
            if node.end != week:
                continue
            frames.append(_frame(tabs[tab], measure=f"node:{total}:{node.key}", estimate=vec.astype(float),
                                 lower=None, upper=None, sd=round(float(np.sqrt(plan.node_variance)), 6),
                                 unit="minutes" if total in ("possible", "absent") else "pupils",
                                 noise="discrete_gaussian", scale=round(plan.scale, 6), flags=[["tree_node"]] * len(vec)))
    return pd.concat(frames, ignore_index=True)


def _measure_rows(noisy, plans, tabs, ranges, alpha: float = 0.05) -> pd.DataFrame:
    frames = []
    for name, unit, num, den, complement, rng in MEASURES:
        for tab in TABLES:
            n_est, n_var = range_estimate(noisy[(num, tab)], plans[(num, tab)], *ranges[rng])
            if den is None:
                lo, hi = count_intervals(n_est, np.full(len(n_est), n_var), alpha)
                vals = {"estimate": n_est.astype(float), "lower": lo, "upper": hi,
                        "sd": np.full(len(n_est), np.sqrt(n_var))}
            else:
                # different streams carry independent noise: covariance 0
                d_est, d_var = range_estimate(noisy[(den, tab)], plans[(den, tab)], *ranges[rng])
                r = ratio_intervals(n_est, d_est, n_var, d_var, 0.0, alpha, complement=complement)
                # the series is read, not aggregated: the value shown (inside the interval)
                vals = {"estimate": r.shown, "lower": r.lower, "upper": r.upper, "sd": r.sd}
            frames.append(_frame(tabs[tab], measure=name, **vals, unit=unit,
                                 noise="discrete_gaussian", scale=round(plans[(num, tab)].scale, 6)))
    out = pd.concat(frames, ignore_index=True)
    for col in ("estimate", "lower", "upper", "sd"):
        out[col] = [None if not np.isfinite(v) else round(float(v), 6) for v in out[col]]
    out["flags"] = [["interval_includes_0"] if lo is not None and lo <= 0 else []
                    for lo in out["lower"]]
    return out


def release_week(con: duckdb.DuckDBPyConnection, settings: Settings, school_year: str, week: int,
                 principal: str | None = None, *, database: Database | None = None
                 ) -> StoredRelease:
    """Publish (or return, free) week `week` of `school_year`; charges its planned share."""
    weeks, rho_micro = plan_for(con, school_year, settings, database)
    if isinstance(week, bool) or not isinstance(week, int) or not 1 <= week <= weeks:
        raise WeekOutOfRange(week, weeks)
    released = week_releases(con, school_year)
    spec = {"school_year": school_year, "week": week, "weeks": weeks, "rho_micro": rho_micro,
            "method": "tree/1"}
    if week not in released:
        missing = next((w for w in range(1, week) if w not in released), None)
        if missing is not None:
            raise WeekOutOfOrder(week, missing)
        try:
            has = con.execute(sql.load("weekly_week_has_data"),
                              {"school_year": school_year, "week": week}).fetchone()[0]
        except duckdb.CatalogException:  # derived tables not built yet
            has = 0
        if not has:
            raise NoWeeklyData(school_year, week)
    plans = weekly_plans(weeks, rho_micro)
    return publish(con, settings, WeekRelease(
        dataset=school_year, question=question_text(spec), principal=principal,
        rho=Rho.from_micro(week_micro(plans, week)), database=database), database=database)


@dataclass(frozen=True, kw_only=True)
class WeekRelease(ReleaseSpec):
    """One week of the weekly series, paid from the weekly pool; released once, whatever
    arrives later (not versioned by the data)."""

    kind: str = KIND
    pool: str = "weekly"
    versioned: bool = False
    database: Database | None = field(default=None, compare=False)  # earlier weeks' cells

    def compute(self, con: duckdb.DuckDBPyConnection) -> Computed:
        q = self.asked()
        return compute_week(con, self.dataset, q["week"], q["weeks"], q["rho_micro"],
                            self.database)


def series(con: duckdb.DuckDBPyConnection, school_year: str, measure: str, level: str,
           area_code: str, sector: str = "all", *, database: Database | None = None) -> list[dict]:
    """One released measure of one area over the released weeks (noisy values only)."""
    out = []
    for week, rid in sorted(week_releases(con, school_year).items()):
        frame = release_cells(con, rid, database)
        hit = frame[(frame["measure"] == measure) & (frame["level"] == level)
                    & (frame["area_code"] == area_code) & (frame["sector"] == sector)]
        for row in hit.itertuples(index=False):
            out.append({"week": week, "release_id": rid, "estimate": _number(row.estimate),
                        "lower": _number(row.lower), "upper": _number(row.upper),
                        "sd": _number(row.sd), "unit": row.unit})
    return out


def with_dates(points: list[dict], dates: dict) -> list[dict]:
    """`points` of :func:`series` with each week's first and last school day in the area
    (``first_day``, ``last_day``; None for a week the calendar lacks), from
    `service.register.lookup.week_dates`."""
    return [{**p, "first_day": dates.get(p["week"], (None, None))[0],
             "last_day": dates.get(p["week"], (None, None))[1]} for p in points]


def _number(value) -> float | None:
    """A released value, or None where the week has no estimate (NaN is not JSON, and a page
    must never print "nan")."""
    return None if value is None or value != value else float(value)
