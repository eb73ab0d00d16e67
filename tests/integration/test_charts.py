"""Vega-Lite specs of service/compare/charts.py: valid, one mark per area, colour only where the
difference with the country is beyond the noise, real boundaries served by the app."""

from __future__ import annotations

import json

import altair as alt
import pytest

from service.api.routes.page import static_files
from service.compare import charts
from service.compare import comparison as compare
from service.db import connect
from support.compare_data import make_database


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    settings, _ = make_database(tmp_path_factory.mktemp("charts") / "c.duckdb")
    con = connect(settings.db)
    yield compare.load_release(con), compare.register_structure(con)
    con.close()


def _layer(spec: dict, name: str) -> dict:
    """A named layer, with the data it uses (Altair lifts shared data to the top)."""
    layer = next(layer for layer in spec["layer"] if layer.get("name") == name)
    return {"data": spec.get("data"), **layer}


def test_dot_plot_has_a_point_per_area_coloured_only_beyond_the_noise(released):
    rel, _ = released
    comparison = compare.compare(rel, "absence_rate", level="municipality")
    spec = charts.dot_plot(comparison, "nl")
    alt.LayerChart.from_dict(spec)  # validates against the Vega-Lite schema
    rows = _layer(spec, "area_points")["data"]["values"]
    assert len(rows) == 342
    beyond = {a["code"] for a in comparison["areas"] if a["vs_national"]["distinguishable"]}
    grey = charts.STATUS_LABELS["nl"]["same"]
    assert {r["code"] for r in rows if r["status"] != grey} == beyond
    assert 0 < len(beyond) < 342
    assert _layer(spec, "national_line")["data"]["values"][0]["estimate"] == pytest.approx(0.064)
    assert json.dumps(spec)  # plain JSON


def test_counts_have_no_national_line_and_no_colour(released):
    rel, _ = released
    spec = charts.dot_plot(compare.compare(rel, "enrolled", level="province"), "en")
    assert not any(layer.get("name") == "national_line" for layer in spec["layer"])
    rows = _layer(spec, "area_points")["data"]["values"]
    assert {r["status"] for r in rows} == {charts.STATUS_LABELS["en"]["same"]}


@pytest.mark.parametrize("level", ["municipality", "province", "rmc"])
def test_map_uses_served_boundaries_whose_codes_match_the_areas(released, level):
    rel, _ = released
    comparison = compare.compare(rel, "absence_rate", level=level)
    spec = charts.choropleth(comparison, "nl")
    shapes = _layer(spec, "area_shapes")
    url = shapes["data"]["url"]
    body, media = static_files()[url.removeprefix("/static/")]
    assert media == "application/json"
    topo = json.loads(body)
    feature = shapes["data"]["format"]["feature"]
    codes = {g["properties"]["statcode"] for g in topo["objects"][feature]["geometries"]}
    assert codes == {a["code"] for a in comparison["areas"]}
    assert shapes["encoding"]["opacity"]["field"] == "width"   # uncertainty is visible
    assert "CBS" in spec["title"]["subtitle"]


def test_no_map_for_samenwerkingsverbanden(released):
    rel, _ = released
    with pytest.raises(ValueError):
        charts.choropleth(compare.compare(rel, "absence_rate", level="swv"))


def test_differences_chart_marks_each_pair(released):
    rel, structure = released
    comparison = compare.compare(rel, "absence_rate", structure=structure, areas=[
        ("municipality", "GM0363"), ("municipality", "GM0599"), ("municipality", "GM0014")])
    rows = _layer(charts.differences(comparison, "en"), "difference_points")["data"]["values"]
    assert len(rows) == 3
    assert [r["status"] != "same" for r in rows] == [d["distinguishable"] for d in comparison["differences"]]
