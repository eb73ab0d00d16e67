"""Random small datasets on the tiny register of support/derive_data.py, and every total's
vector at every level and grouping, for the neighbouring-dataset tests: a dataset is built
with and without one target pupil (a mover, a pupil absent every day, or a random one)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from privacy.bounds import BoundSpec
from service.ingest.derive import rebuild
from service.releases.aggregate import LEAF_LEVELS, grouped_totals, leaf_totals
from service.releases.catalogue import JOINT_TABLES, REASONS, TOTALS
from support.derive_data import NOORD, SCHOOLS, YEAR, Data

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
