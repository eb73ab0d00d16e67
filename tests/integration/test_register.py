"""The public register (real 2025 geography, synthetic schools and SWVs) and the calendar."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from service.db import connect
from service.register import synthetic as register_module
from service.register.calendar import (
    REGIONS,
    BadSchoolYear,
    UnknownHolidayRegion,
    calendar_frame,
    school_days,
)
from service.register.partnerships import water_links
from service.register.synthetic import HOLIDAY_REGION, build_register, load_register, municipalities


@pytest.fixture(scope="module")
def reg():
    return build_register()


def _connected(nodes: frozenset[str], adj) -> bool:
    start = next(iter(nodes))
    seen, stack = {start}, [start]
    while stack:
        for nb in adj[stack.pop()]:
            if nb in nodes and nb not in seen:
                seen.add(nb)
                stack.append(nb)
    return seen == set(nodes)


def test_real_geography(reg):
    areas = reg.areas
    counts = areas["level"].value_counts()
    assert counts["country"] == 1 and counts["province"] == 12
    assert counts["municipality"] == 342 and counts["rmc"] == 40
    assert 70 <= counts["swv_po"] <= 85 and 70 <= counts["swv_vo"] <= 80
    assert list(areas.columns) == ["level", "code", "name", "parent_level", "parent_code"]
    assert areas.set_index(["level", "code"]).index.is_unique
    patterns = {"country": r"NL", "province": r"PV(2\d|3[01])", "municipality": r"GM\d{4}",
                "rmc": r"MC\d{2}", "swv_po": r"PO(2\d|3[01])\d{2}", "swv_vo": r"VO(2\d|3[01])\d{2}"}
    for level, pattern in patterns.items():
        assert areas.loc[areas["level"] == level, "code"].str.fullmatch(pattern).all(), level
    csv = municipalities().set_index("municipality_code")
    muni = areas[areas["level"] == "municipality"].set_index("code")
    assert (muni["parent_code"] == csv.loc[muni.index, "province_code"]).all()
    assert (muni["parent_level"] == "province").all()
    named = areas.set_index("code")["name"]
    assert named["GM0363"] == "Amsterdam" and named["PV27"] == "Noord-Holland"
    assert named["GM0518"] == "'s-Gravenhage" and named["NL"] == "Nederland"
    others = areas[~areas["level"].isin(["municipality", "country"])]
    assert (others["parent_level"] == "country").all() and (others["parent_code"] == "NL").all()
    assert 17_500_000 <= reg.population.sum() <= 18_500_000
    assert reg.population["GM0363"] == 930_000


def test_schools_consistent_with_their_areas(reg):
    s = reg.schools
    assert list(s.columns) == ["school_id", "name", "sector", "municipality_code",
                               "province_code", "rmc_code", "swv_code", "holiday_region"]
    assert s["school_id"].is_unique and s["school_id"].str.fullmatch(r"\d{2}[A-Z]{2}\d{2}").all()
    assert s["name"].is_unique and (s["name"].str.len() > 5).all()
    csv = municipalities().set_index("municipality_code")
    assert s["municipality_code"].isin(csv.index).all()
    assert (s["province_code"].to_numpy() == csv.loc[s["municipality_code"], "province_code"]).all()
    assert (s["rmc_code"].to_numpy() == csv.loc[s["municipality_code"], "rmc_code"]).all()
    assert (s["holiday_region"] == s["province_code"].map(HOLIDAY_REGION)).all()
    levels = reg.areas.groupby("level")["code"].apply(set)
    po_like = s["sector"].isin(["PO", "SBO", "SO"])
    assert s.loc[po_like, "swv_code"].isin(levels["swv_po"]).all()
    assert s.loc[~po_like, "swv_code"].isin(levels["swv_vo"]).all()
    # an SWV code carries the province digits of its schools
    assert (s["swv_code"].str[2:4] == s["province_code"].str[2:4]).all()
    for code, group in s.groupby("swv_code"):
        assert set(group["municipality_code"]) <= reg.swv_members[code], code
    assert set(s.loc[s["sector"] == "PO", "municipality_code"]) == set(csv.index)


def test_school_counts_in_stated_ranges(reg):
    n = reg.schools["sector"].value_counts()
    assert 6_500 <= n["PO"] + n["SBO"] <= 6_900 and 250 <= n["SBO"] <= 330
    assert 280 <= n["SO"] + n["VSO"] <= 360 and n["SO"] > 100 and n["VSO"] > 100
    assert 1_300 <= n["VO"] <= 1_500
    per_muni = reg.schools.groupby("municipality_code").size()
    assert per_muni["GM0363"] > 150 and per_muni["GM0088"] <= 3  # Amsterdam, Schiermonnikoog


def test_swvs_are_connected_within_one_province(reg):
    areas = reg.areas
    assert set(reg.swv_members) == set(areas.loc[areas["level"].str.startswith("swv"), "code"])
    province = municipalities().set_index("municipality_code")["province_code"]
    for code, members in reg.swv_members.items():
        assert {province[m] for m in members} == {f"PV{code[2:4]}"}, code
        assert _connected(members, reg.adjacency), code
    for kind in ("PO", "VO"):
        count = pd.Series([m for c, ms in reg.swv_members.items() if c.startswith(kind)
                           for m in ms]).value_counts()
        assert len(count) == 342  # every municipality in an SWV of each kind
        assert 1 <= (count == 2).sum() <= 10 and count.max() == 2
        # a municipality in two SWVs really has schools in both
        for m in count[count == 2].index:
            sectors = ["PO"] if kind == "PO" else ["VO"]
            s = reg.schools[(reg.schools["municipality_code"] == m)
                            & reg.schools["sector"].isin(sectors)]
            assert s["swv_code"].nunique() == 2, m


def test_adjacency_is_symmetric_and_islands_get_one_water_link(reg):
    adj = reg.adjacency
    assert all(a in adj[b] for a in adj for b in adj[a])
    assert adj["GM0363"] >= {"GM0362", "GM0384"}  # Amsterdam borders Amstelveen and Diemen
    links = water_links(municipalities())
    islands = {"GM0448", "GM0096", "GM0093", "GM0060", "GM0088"}  # Wadden islands
    assert islands <= {m for link in links for m in link}
    assert len(links) <= 9


def test_register_is_deterministic(reg):
    again = register_module._build.__wrapped__()
    pd.testing.assert_frame_equal(reg.areas, again.areas)
    pd.testing.assert_frame_equal(reg.schools, again.schools)
    assert reg.swv_members == again.swv_members


def test_load_register_fills_tables_once(tmp_path, reg):
    con = connect(tmp_path / "r.duckdb")
    load_register(con, ("2025-2026", "2026-2027"))
    load_register(con, ("2025-2026",))
    count = lambda t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: E731
    assert count("area") == len(reg.areas) and count("school") == len(reg.schools)
    assert count("school_year") == 2
    assert count("calendar_day") == len(calendar_frame("2025-2026")) + len(
        calendar_frame("2026-2027"))
    assert dict(con.execute("SELECT * FROM sector_day").fetchall()) == {
        "PO": 300, "SBO": 300, "SO": 300, "VSO": 360, "VO": 360}
    assert con.execute("SELECT first_day, last_day FROM school_year WHERE school_year = "
                       "'2025-2026'").fetchone() == (dt.date(2025, 8, 1), dt.date(2026, 7, 31))
    con.close()


HOLIDAYS_ALL = [(dt.date(2025, 12, 20), dt.date(2026, 1, 4)), (dt.date(2026, 4, 6),) * 2,
                (dt.date(2026, 4, 25), dt.date(2026, 5, 3)),
                (dt.date(2026, 5, 14), dt.date(2026, 5, 15)), (dt.date(2026, 5, 25),) * 2]


@pytest.mark.parametrize("region,first,summer", [
    ("zuid", dt.date(2025, 8, 18), dt.date(2026, 7, 11)),
    ("noord", dt.date(2025, 8, 25), dt.date(2026, 7, 4)),
    ("midden", dt.date(2025, 9, 1), dt.date(2026, 7, 18)),
])
def test_calendar_2025_2026(region, first, summer):
    days = school_days("2025-2026", region)
    assert days[0] == first and days[-1] < summer and days == sorted(set(days))
    assert all(d.weekday() < 5 for d in days)
    for lo, hi in HOLIDAYS_ALL:
        assert not any(lo <= d <= hi for d in days)
    autumn = dt.date(2025, 10, 13) if region == "zuid" else dt.date(2025, 10, 20)
    assert autumn not in days and autumn - dt.timedelta(days=7 if region == "zuid" else 14) in days
    weeks = {d.isocalendar()[:2] for d in days}
    assert 38 <= len(weeks) <= 41


def test_calendar_frame_and_other_years():
    frame = calendar_frame("2025-2026")
    assert list(frame.columns) == ["school_year", "holiday_region", "day", "day_index",
                                   "week_index", "iso_year", "iso_week"]
    for region, group in frame.groupby("holiday_region"):
        assert list(group["day_index"]) == list(range(1, len(group) + 1))
        assert 38 <= group["week_index"].max() <= 41
    for year in ("2024-2025", "2027-2028", "2031-2032"):
        for region in REGIONS:
            days = school_days(year, region)
            start = int(year[:4])
            assert dt.date(start, 8, 1) <= days[0] < days[-1] <= dt.date(start + 1, 7, 31)
            assert all(d.weekday() < 5 for d in days)
            assert 38 <= len({d.isocalendar()[:2] for d in days}) <= 41
    with pytest.raises(BadSchoolYear):
        school_days("2025-2027", "noord")
    with pytest.raises(UnknownHolidayRegion):
        school_days("2025-2026", "oost")
