"""Accuracy targets in the unit of the measure through real HTTP: no target yields a 5xx
(property test over 1e-9 … 1e9 in every unit), none is silently planned over the cap, a
target out of reach is a 400 naming the best within the cap, and the researcher's question
of the issue ("chronic share by municipality × sector, ± 2 percentage points") fits."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privacy.budget import Rho

UNITS = [None, "percentage_points", "fraction", "pupils", "minutes", "hours"]


def _dry(client, keys, measure, accuracy, group_by=("municipality",)):
    body = {"measure": measure, "group_by": list(group_by), "accuracy": accuracy, "dry_run": True}
    return client.post("/v1/queries", json=body, headers=keys.header("researcher"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(measure=st.sampled_from(["absence_rate", "chronic_share", "enrolled", "attendance_rate"]),
       unit=st.sampled_from(UNITS),
       half_width=st.floats(min_value=1e-9, max_value=1e9, allow_nan=False),
       min_group=st.integers(min_value=1, max_value=10_000_000))
def test_no_target_is_a_5xx_or_over_the_cap(client, keys, measure, unit, half_width, min_group):
    accuracy = {"half_width": half_width, "min_group": min_group}
    if unit is not None:
        accuracy["unit"] = unit
    r = _dry(client, keys, measure, accuracy)
    assert r.status_code in (200, 400), r.text
    if r.status_code == 200:
        assert Rho.of(r.json()["cost"]["rho"]) <= Rho.of("1")
    else:
        assert r.headers["content-type"].startswith("application/problem+json")


def test_a_minute_target_below_what_the_cap_buys_is_a_400_naming_the_best(client, keys):
    r = _dry(client, keys, "absence_rate", {"half_width": 4000})
    assert r.status_code == 400, r.text
    message = r.json()["errors"][0]["message"]
    assert "most accurate within it is 144646 minutes" in message and "percentage_points" in message


def test_a_rate_in_percentage_points_out_of_reach_names_the_best(client, keys):
    r = _dry(client, keys, "absence_rate", {"half_width": 0.001, "unit": "percentage_points"})
    assert r.status_code == 400
    message = r.json()["errors"][0]["message"]
    assert "± 0.001 percentage points cannot be reached" in message
    assert "the most accurate within it is ± 0.36" in message
    assert "groups of at least 1,000 pupils" in message


def test_a_share_in_percentage_points_fits_and_says_for_which_groups(client, keys):
    r = _dry(client, keys, "chronic_share", {"half_width": 2, "unit": "percentage_points"},
             group_by=("municipality", "sector"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["fits"] is True and Rho.of(body["cost"]["rho"]) <= Rho.of("0.05")
    assert 1.9 < body["accuracy"]["planned_half_width"] <= 2
    assert body["accuracy"]["for_groups_of_at_least"] == 1000


def test_a_unit_that_does_not_fit_the_measure_is_a_400(client, keys):
    r = _dry(client, keys, "enrolled", {"half_width": 2, "unit": "percentage_points"})
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "accuracy.unit"
