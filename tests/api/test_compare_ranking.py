"""Rankings a policy officer can trust (docs/page.md, "Rankings"), on the pipeline's own
standard release (OpenDP noise, areas without an estimate): an area without an estimate has
no rank and says why; one whose published 95% rank range spans more than half of the areas
with an estimate is "too uncertain to rank"; every other area is ranked 1 = highest; the dot
plot shows exactly the ranked areas on an axis that fits their estimates; each area carries
its released number of pupils."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.releases.standard import publish_standard

YEAR = "2025-2026"
CASES = [("chronic_share", "municipality"), ("absence_rate", "municipality"), ("absence_rate", "swv"),
         ("absence_rate", "province"), ("chronic_share", "rmc"), ("severe_count", "municipality"),
         ("enrolled", "province"), ("enrolled", "swv")]


@pytest.fixture(scope="module")
def client(synthetic_nl):
    con, settings = synthetic_nl
    publish_standard(con, settings, YEAR)
    with TestClient(create_app(settings)) as c:
        yield c


def test_only_areas_with_a_clear_enough_place_are_ranked(client):
    seen = {None: 0, "no_estimate": 0, "too_uncertain": 0}
    for measure, level in CASES:
        for reason, count in _check_ranking(client, measure, level).items():
            seen[reason] += count
    # the release has areas of every kind: the rule is not checked on an empty set
    assert min(seen.values()) > 0, seen


def _check_ranking(client, measure, level) -> dict:
    body = client.get("/v1/compare", params={"measure": measure, "level": level}).json()
    areas = body["areas"]
    known = [a for a in areas if a["estimate"] is not None]
    n = len(known)
    assert body["ranking"]["with_estimate"] == n
    reasons = {None: 0, "no_estimate": 0, "too_uncertain": 0}
    for a in areas:
        reasons[a["unranked"]] += 1
        if a["estimate"] is None:
            assert a["rank"] is None and a["ranked"] is False and a["unranked"] == "no_estimate"
            assert a["rank_note"]["nl"] == "te weinig leerlingen voor een schatting"
            assert a["rank_note"]["en"] == "too few pupils for an estimate"
            continue
        span = a["rank_upper"] - a["rank_lower"] + 1
        assert a["ranked"] is (span <= n / 2), (a["name"], span, n)
        if not a["ranked"]:
            assert a["unranked"] == "too_uncertain"
            assert f"{int(a['rank_lower'])}\u2013{int(a['rank_upper'])} van {n}" in a["rank_note"]["nl"]
    assert body["ranking"]["ranked"] == reasons[None]
    # 1 = highest: the ranks of the areas with an estimate are their places by estimate
    ordered = sorted(known, key=lambda a: (-a["estimate"], a["code"]))
    assert [a["rank"] for a in ordered] == list(range(1, n + 1))
    return reasons


@pytest.mark.parametrize("measure,level", CASES)
def test_the_dot_plot_shows_the_ranked_areas_on_a_fitted_axis(client, measure, level):
    body = client.get("/v1/compare", params={"measure": measure, "level": level}).json()
    spec = client.get("/v1/charts/dot-plot", params={"measure": measure, "level": level}).json()
    ranked = {a["code"] for a in body["areas"] if a["ranked"]}
    points = next(layer for layer in spec["layer"] if layer.get("name") == "area_points")
    source = points.get("data") or spec["data"]
    data = source["values"] if "values" in source else spec["datasets"][source["name"]]
    assert {row["code"] for row in data} == ranked
    bars = next(layer for layer in spec["layer"] if layer.get("mark", {}).get("type") == "rule"
                and "x2" in layer.get("encoding", {}))
    lo, hi = bars["encoding"]["x"]["scale"]["domain"]
    shown = [row["estimate"] for row in data]
    assert all(lo <= x <= hi for x in shown)
    nat = body["national"]
    if body["measure"]["unit"] != "pupils" and shown:
        assert lo <= nat["lower"] and nat["upper"] <= hi
        # not 0-100%: the axis spans the estimates (plus 8% each side), not the widest interval
        span = max(shown + [nat["upper"]]) - min(shown + [nat["lower"]])
        assert hi - lo <= span * 1.2 + 0.004 + 1e-9
    assert any(t.startswith("rang 1 = hoogste") for t in spec["title"]["subtitle"])


def test_each_area_carries_its_released_number_of_pupils(client):
    body = client.get("/v1/compare", params={"measure": "absence_rate", "level": "province"}).json()
    enrolled = client.get("/v1/compare", params={"measure": "enrolled", "level": "province"}).json()
    pupils = {a["code"]: round(max(a["shown"], 0)) for a in enrolled["areas"]}
    assert {a["code"]: a["pupils"] for a in body["areas"]} == pupils
