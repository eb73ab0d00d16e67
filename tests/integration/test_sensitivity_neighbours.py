"""Neighbouring datasets: removing (or adding) ALL records of one pupil changes every total's
vector, at every level and in every grouping, by at most the sensitivity that
`privacy.bounds.sensitivity` derives from the total's declared `BoundSpec`.

Random small datasets from hypothesis on the tiny register of test_derive; the removed pupil
is a mover between schools, a pupil absent (over-recorded) every day, or a random one.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privacy.bounds import sensitivity
from service.db import connect
from service.releases.aggregate import leaf_totals
from service.releases.catalogue import JOINT_TABLES, MAX_YEAR_MINUTES
from support.derive_data import YEAR, make_register
from support.neighbours import TARGETS, absent_every_day, bound_of, build, mover, pupil


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
