"""Neighbouring datasets: removing (or adding) ALL records of one pupil changes every total's
vector, at every level and in every grouping, by at most the sensitivity that
`privacy.bounds.sensitivity` derives from the total's declared `BoundSpec`.

Random small datasets from hypothesis on the tiny register of test_derive; the removed pupil
is a mover between schools, a pupil absent (over-recorded) every day, or a random one.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privacy.bounds import BoundSpec, sensitivity
from service.releases.aggregate import LEAF_LEVELS, grouped_totals, leaf_totals
from service.releases.catalogue import JOINT_TABLES, MAX_YEAR_MINUTES, REASONS, TOTALS
from service.db import connect
from service.ingest.derive import rebuild
from test_derive import NOORD, SCHOOLS, YEAR, Data, make_register

SCHOOL_IDS = [s[0] for s in SCHOOLS]
MUNICIPALITIES = ["GM0001", "GM0002", "GM0003", "GM0004"]
GROUPINGS = [["residence"], ["sector", "grade_band"], ["municipality", "grade_band"], []]

enrolment = st.tuples(st.integers(0, 3), st.integers(0, 54), st.integers(0, 54))
absence = st.tuples(st.integers(0, 54), st.sampled_from([30, 60, 150, 300, 360, 600]),
                    st.sampled_from(REASONS), st.integers(0, 3))
pupil = st.fixed_dictionaries({
    "enrolments": st.lists(enrolment, min_size=1, max_size=2),
    "absences": st.lists(absence, max_size=15),
    "grade": st.integers(1, 8),
    "residence": st.sampled_from(MUNICIPALITIES),
})


def mover() -> dict:
    return {"enrolments": [(0, 0, 18), (1, 19, 54)], "grade": 6, "residence": "GM0002",
            "absences": [(d, 300, "unauthorised", 0) for d in range(10, 19)]
            + [(d, 300, "sick", 1) for d in range(19, 40)]}


def absent_every_day() -> dict:
    return {"enrolments": [(2, 0, 54), (0, 0, 54)], "grade": 3, "residence": "GM0004",
            "absences": [(d, 360, r, s) for d in range(55) for r, s in (("sick", 2), ("late", 0))]}


TARGETS = {"mover": st.just(mover()), "absent_every_day": st.just(absent_every_day()),
           "random": pupil}


def insert(data: Data, key: str, p: dict) -> None:
    for school, a, b in p["enrolments"]:
        data.enrol(key, SCHOOL_IDS[school], NOORD[min(a, b)], NOORD[max(a, b)], grade=p["grade"],
                   residence=p["residence"])
    for day, minutes, reason, school in p["absences"]:
        data.absent(key, SCHOOL_IDS[school], [NOORD[day]], minutes, reason)


def vectors(con) -> dict[tuple[str, str], np.ndarray]:
    """Every total at every level and in every grouping, plus the joint band tables."""
    out = {}
    leaves = leaf_totals(con, YEAR)
    for level in ["school", *LEAF_LEVELS]:
        for name in TOTALS:
            out[(name, level)] = leaves.at_level(name, level)
    for group in GROUPINGS:
        g = grouped_totals(con, YEAR, group, {})
        for name, total in g.totals.items():
            assert total.bound == TOTALS[name].bound
            out[(name, "×".join(group) or "all")] = total.values
    for table, (names, _) in JOINT_TABLES.items():
        for level in ["school", *LEAF_LEVELS]:
            out[(table, level)] = np.concatenate([out[(n, level)] for n in names])
    return out


def bound_of(name: str) -> BoundSpec:
    return JOINT_TABLES[name][1] if name in JOINT_TABLES else TOTALS[name].bound


def build(con, others: list[dict], target: dict | None, put=insert, read=vectors) -> dict:
    """A fresh dataset of `others` (and `target`), derived; `read` gives its totals."""
    con.execute("DELETE FROM absence; DELETE FROM enrolment; DELETE FROM batch")
    data = Data(con)
    for i, p in enumerate(others):
        put(data, f"p{i}", p)
    if target is not None:
        put(data, "target", target)
    rebuild(con, YEAR)
    return read(con)


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    con = connect(tmp_path_factory.mktemp("neighbours") / "n.duckdb")
    make_register(con)
    yield con
    con.close()


def check_neighbours(con, others: list[dict], target: dict) -> None:
    with_pupil = build(con, others, target)
    without = build(con, others, None)
    assert with_pupil.keys() == without.keys()
    for (name, level), a in with_pupil.items():
        diff = a - without[(name, level)]
        sens = sensitivity(bound_of(name))
        assert int(np.abs(diff).sum()) <= sens.l1, (name, level)
        assert int((diff * diff).sum()) <= Fraction(sens.l2) ** 2, (name, level)


@pytest.mark.parametrize("kind", list(TARGETS))
def test_one_pupil_changes_each_total_by_at_most_its_sensitivity(con, kind):
    @settings(max_examples=8, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(others=st.lists(pupil, max_size=5), target=TARGETS[kind])
    def run(others, target):
        check_neighbours(con, others, target)

    run()


def test_the_removed_pupil_is_really_counted(con):
    """Guard against a vacuous property: the extreme pupils do move the totals."""
    with_pupil = build(con, [mover()], absent_every_day())
    without = build(con, [mover()], None)
    assert (with_pupil[("enrolled", "country")] - without[("enrolled", "country")])[0] == 1
    assert (with_pupil[("absent_minutes", "country")] - without[("absent_minutes", "country")])[0] == 55 * 360
    assert (with_pupil[("long_term", "residence")] - without[("long_term", "residence")]).sum() == 1


def test_aggregation_clamps_even_a_corrupt_pupil_year(con):
    """The aggregation applies the declared bounds itself: a corrupt row can't exceed them."""
    build(con, [], None)
    con.execute("INSERT INTO pupil_year (school_year, pupil_key, school_id, sector, grade_band, "
                "residence_code, possible_minutes, absent_minutes, sick_minutes, authorised_minutes, "
                "unauthorised_minutes, late_minutes, suspended_minutes, chronic, severe, long_term, "
                "signal16, band) VALUES (?, 'x', '01AA00', 'PO', 'po_onder', 'GM0001', 2000000, "
                "9000000, 9000000, -5, 9000000, 9000000, 9000000, true, true, true, true, 9)", [YEAR])
    leaves = leaf_totals(con, YEAR)
    for name, total in leaves.totals.items():
        assert total.bound.lower <= total.values.min() and total.values.max() <= total.bound.upper, name
    assert leaves.totals["possible_minutes"].values[0] == MAX_YEAR_MINUTES
    assert sum(leaves.totals[n].values[0] for n in JOINT_TABLES["band"][0]) == 1
    con.execute("DELETE FROM pupil_year")
