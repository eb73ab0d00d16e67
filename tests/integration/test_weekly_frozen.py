"""Released weeks are frozen: uploads and corrections between releases (one removes absences)
never count a pupil twice in the once-a-year stream, and every node of every table, each
computed in the week it completes from the data as they stood then, stays within the tree's
declared sensitivity between neighbouring datasets (with and without one pupil)."""

from __future__ import annotations

import numpy as np

from privacy.continual import tree_l2_squared
from service.weekly import series as weekly
from support.derive_data import YEAR
from support.weekly_data import WEEKS, add_pupil, build

RELEASED_BEFORE_CORRECTION = 8


def _set_absence(con, key: str, weeks, absent: int) -> None:
    """A correction as derive would leave it: the pupil's weeks rewritten."""
    con.execute("UPDATE pupil_week SET absent_minutes = ? WHERE pupil_tag = ? AND "
                "list_contains(?, week_index)", [absent, key, list(weeks)])


def _run(path, with_neighbour: bool, fixed: bool = True):
    """Node truths of every week, released one by one, with corrections in between.
    `fixed=False` plants the old behaviour: no fixed weeks, first reach from current data."""
    con = build(path)
    plans = weekly.weekly_plans(WEEKS, 200_000)
    schools, tabs = weekly.tables(con)
    if with_neighbour:
        # fully absent weeks 3..9: first reaches four weeks in week 6
        add_pupil(con, "neighbour", possible=1800, absent=0)
        _set_absence(con, "neighbour", range(3, 10), 1800)
    truths = {}
    for week in range(1, WEEKS + 1):
        if week == RELEASED_BEFORE_CORRECTION + 1:
            # corrections after week 8 was released: absences removed for weeks 3..5 (the run
            # now starts in week 6 and reaches four weeks in week 9), a late upload for
            # another pupil, and a correction raising someone's absence
            if with_neighbour:
                _set_absence(con, "neighbour", range(3, 6), 0)
            add_pupil(con, "late", weeks=range(1, WEEKS + 1), possible=1800, absent=100)
            _set_absence(con, "p3", range(1, 9), 700)
        if week == 20 and with_neighbour:
            _set_absence(con, "neighbour", range(14, 20), 1800)     # a second run: never counted
        if not fixed:
            con.execute("DELETE FROM pupil_long_term_counted")
            weekly._leaf_totals = _old_leaf_totals
        for key, nodes in weekly.node_truths(con, YEAR, week, plans, schools, tabs).items():
            truths.setdefault(key, {}).update(nodes)
    weekly._leaf_totals = _LEAF_TOTALS
    con.close()
    return plans, truths


_LEAF_TOTALS = weekly._leaf_totals


def _old_leaf_totals(con, school_year, first, last, schools, open_week=1):
    return _LEAF_TOTALS(con, school_year, first, last, schools, open_week=1)


def test_every_node_stays_within_the_declared_sensitivity_across_corrections(tmp_path):
    plans, without = _run(tmp_path / "a.duckdb", with_neighbour=False)
    _, with_ = _run(tmp_path / "b.duckdb", with_neighbour=True)
    for key, plan in plans.items():
        assert set(with_[key]) == set(plan.shape.nodes)
        diff = np.array([with_[key][n] - without[key][n] for n in plan.shape.nodes])
        assert (diff**2).sum() <= tree_l2_squared(plan.shape, plan.bound), key
    # the neighbour is counted once in the once-a-year stream, in week 6
    country = {n: int(with_[("new_long_term", "country")][n].sum()
                      - without[("new_long_term", "country")][n].sum())
               for n in plans[("new_long_term", "country")].shape.nodes}
    singles = {n.start: v for n, v in country.items() if n.start == n.end and v}
    assert singles == {6: 1}, singles


def test_without_the_fixed_weeks_the_correction_counts_the_pupil_twice(tmp_path):
    """The bug this guards against: first_reach recomputed from corrected data."""
    plans, without = _run(tmp_path / "a.duckdb", with_neighbour=False, fixed=False)
    _, with_ = _run(tmp_path / "b.duckdb", with_neighbour=True, fixed=False)
    key = ("new_long_term", "country")
    singles = {n.start: int(with_[key][n].sum() - without[key][n].sum())
               for n in plans[key].shape.nodes if n.start == n.end}
    assert {w: v for w, v in singles.items() if v} == {6: 1, 9: 1}
    plan = plans[key]
    diff = np.array([with_[key][n] - without[key][n] for n in plan.shape.nodes])
    assert (diff**2).sum() > tree_l2_squared(plan.shape, plan.bound)
