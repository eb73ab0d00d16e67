"""Catalogue definitions against hand-computed values on the tiny dataset of test_derive
(true totals → ratios, no noise involved), every school present, and query validation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from privacy.bounds import BoundSpec
from service.db import connect
from service.ingest.derive import rebuild
from service.register.dimensions import DIMENSIONS, CatalogueError
from service.releases.aggregate import grouped_totals, leaf_totals
from service.releases.catalogue import (
    JOINT_TABLES,
    MAX_YEAR_MINUTES,
    MEASURES,
    REASONS,
    TOTALS,
    catalogue_document,
    validate_query,
)
from support.derive_data import SCHOOLS, YEAR, make_register, tiny_dataset
from support.paths import DOCS

# Hand-computed from tests/integration/test_derive.py's pupils (midden year 15,000 min, noord 19,800):
# 01AA00: allday (15000 absent), half (150), over (900); 02BB00: mover (450), run (6150);
# 03CC00: late (300 of 10,800), signal (1080), nosignal (1200); 04DD00: nobody.
POSSIBLE = [45000, 30000, 10800 + 19800 + 19800, 0]
ABSENT = [15000 + 150 + 900, 450 + 6150, 300 + 1080 + 1200, 0]


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    con = connect(tmp_path_factory.mktemp("catalogue") / "cat.duckdb")
    make_register(con)
    tiny_dataset(con)
    rebuild(con, YEAR)
    yield con
    con.close()


@pytest.fixture(scope="module")
def leaves(con):
    return leaf_totals(con, YEAR)


def values(leaves, level: str) -> dict[str, np.ndarray]:
    return {name: leaves.at_level(name, level) for name in TOTALS}


def test_every_school_appears_with_zeros(leaves):
    assert leaves.school_ids == sorted(s[0] for s in SCHOOLS)
    assert list(leaves.totals["enrolled"].values) == [3, 2, 3, 0]
    assert list(leaves.totals["possible_minutes"].values) == POSSIBLE
    assert list(leaves.totals["absent_minutes"].values) == ABSENT
    assert all(v.values.dtype == np.int64 and len(v.values) == 4 for v in leaves.totals.values())


def test_every_area_appears(leaves):
    muni = leaves.levels["municipality"]
    assert muni.codes == ["GM0001", "GM0002", "GM0003", "GM0004"]
    assert list(leaves.at_level("enrolled", "municipality")) == [3, 2, 3, 0]
    assert list(leaves.at_level("enrolled", "swv_po")) == [5]        # the VO school is outside
    assert list(leaves.at_level("enrolled", "swv_vo")) == [3]
    assert list(leaves.at_level("enrolled", "province")) == [5, 3]
    assert list(leaves.at_level("enrolled", "sector")) == [5, 0, 0, 0, 3]


def test_rates_are_ratios_of_totals(leaves):
    country = values(leaves, "country")
    absence = MEASURES["absence_rate"].evaluate(country)[0]
    assert absence == pytest.approx(sum(ABSENT) / sum(POSSIBLE))
    assert MEASURES["attendance_rate"].evaluate(country)[0] == pytest.approx(1 - absence)
    school = values(leaves, "school")
    rate = MEASURES["absence_rate"].evaluate(school)
    assert rate[:3] == pytest.approx([a / p for a, p in zip(ABSENT[:3], POSSIBLE[:3])])
    assert np.isnan(rate[3])                                          # no possible minutes
    by_reason = sum(MEASURES[f"absence_rate_{r}"].evaluate(country)[0]
                    for r in ("sick", "authorised", "unauthorised", "late", "suspended"))
    assert by_reason == pytest.approx(absence)
    late = MEASURES["absence_rate_late"].evaluate(school)
    assert late[2] == pytest.approx(300 / POSSIBLE[2])


def test_counts_and_shares(leaves):
    school = values(leaves, "school")
    # chronic: allday, run; severe: allday; long-term: allday, run; signal: signal
    assert list(MEASURES["chronic_count"].evaluate(school)) == [1, 1, 0, 0]
    assert list(MEASURES["severe_count"].evaluate(school)) == [1, 0, 0, 0]
    assert list(MEASURES["long_term_count"].evaluate(school)) == [1, 1, 0, 0]
    assert list(MEASURES["signal16_count"].evaluate(school)) == [0, 0, 1, 0]
    assert MEASURES["chronic_share"].evaluate(values(leaves, "country"))[0] == pytest.approx(2 / 8)
    assert MEASURES["severe_share"].evaluate(school)[0] == pytest.approx(1 / 3)


def test_band_histogram_adds_up_to_enrolled(leaves):
    country = values(leaves, "country")
    bands = [MEASURES[m].evaluate(country)[0] for m in
             ("band_0_5", "band_5_10", "band_10_20", "band_20_50", "band_50_plus")]
    # <5 %: mover 3 %, late 2.8 %, half 1 %; 5–10 %: signal, nosignal, over; 20–50: run; ≥50: allday
    assert bands == [3, 3, 0, 1, 1]
    assert sum(bands) == country["enrolled"][0]


def test_grouped_totals_full_cross_product(con):
    g = grouped_totals(con, YEAR, ["province", "grade_band"], {})
    assert len(g.keys) == 2 * 5 and len(g.totals["enrolled"].values) == 10
    cell = dict(zip(g.keys, g.totals["enrolled"].values))
    assert cell[("PV20", "po_midden")] == 3                    # mover (grade 5), allday, over (4)
    assert cell[("PV21", "vo_onder")] == 1 and cell[("PV21", "vo_boven")] == 2
    assert cell[("PV21", "po_onder")] == 0
    assert g.totals["absent_minutes"].values.sum() == sum(ABSENT)
    assert all(t.bound == TOTALS[t.name].bound for t in g.totals.values())


def test_residence_uses_every_municipality(con):
    g = grouped_totals(con, YEAR, ["residence"], {})
    assert [k[0] for k in g.keys] == ["GM0001", "GM0002", "GM0003", "GM0004"]
    assert list(g.totals["enrolled"].values) == [8, 0, 0, 0]


def test_filters_narrow_keys_through_the_register(con):
    g = grouped_totals(con, YEAR, ["school"], {"municipality": ["GM0001"]})
    assert [k[0] for k in g.keys] == ["01AA00", "04DD00"]
    assert list(g.totals["enrolled"].values) == [3, 0]
    g = grouped_totals(con, YEAR, ["sector"], {"grade_band": "vo_boven"})
    assert list(g.totals["enrolled"].values) == [0, 0, 0, 0, 2]


@pytest.mark.parametrize("measure, group_by, filters, field", [
    ("no_such_measure", [], {}, "measure"),
    (None, [], {}, "measure"),
    ("absence_rate", ["pupil_key"], {}, "group_by"),
    ("absence_rate", ["birth_year"], {}, "group_by"),
    ("absence_rate", "province", {}, "group_by"),
    ("absence_rate", ["province", "province"], {}, "group_by"),
    ("absence_rate", ["province; DROP TABLE school"], {}, "group_by"),
    ("absence_rate", [], {"grade": ["3"]}, "filters.grade"),
    ("absence_rate", [], {"province": ["PV20' OR '1'='1"]}, "filters.province"),
    ("absence_rate", [], {"province": []}, "filters.province"),
    ("absence_rate", [], {"1=1) OR (1": "x"}, "filters"),
    ("absence_rate", [], ["province"], "filters"),
])
def test_validation_refuses(measure, group_by, filters, field):
    with pytest.raises(CatalogueError) as err:
        validate_query(measure, group_by, filters)
    assert err.value.field == field
    assert "DROP" not in str(err.value) and "'1'='1" not in str(err.value)


def test_private_columns_are_named_as_not_public():
    with pytest.raises(CatalogueError, match="not a public dimension"):
        validate_query("enrolled", ["pupil_key"], {})


def test_unknown_filter_value_refused_without_echo(con):
    with pytest.raises(CatalogueError) as err:
        grouped_totals(con, YEAR, ["province"], {"municipality": ["GM9999"]})
    assert err.value.field == "filters.municipality" and "GM9999" not in str(err.value)


def test_valid_query_spec():
    spec = validate_query("chronic_share", ["province", "sector"], {"sector": ["VO", "PO", "VO"]})
    assert spec.group_by == ("province", "sector")
    assert spec.filters == (("sector", ("PO", "VO")),)
    assert [t.name for t in spec.totals()] == ["chronic", "enrolled"]


def test_bounds_declared_once():
    assert TOTALS["enrolled"].bound == BoundSpec(0, 1, 1)
    assert TOTALS["absent_minutes"].bound == BoundSpec(0, MAX_YEAR_MINUTES, 1)
    names, bound = JOINT_TABLES["band"]
    assert bound == BoundSpec(0, 1, max_cells=1) and all(n in TOTALS for n in names)
    names, bound = JOINT_TABLES["reason"]
    assert names == tuple(f"{r}_minutes" for r in REASONS)
    assert bound == BoundSpec(0, MAX_YEAR_MINUTES, max_cells=5, total_cap=MAX_YEAR_MINUTES)
    assert all(TOTALS[n].bound == BoundSpec(0, MAX_YEAR_MINUTES, 1) for n in names)
    for m in MEASURES.values():
        assert all(n in TOTALS for n in m.numerator + m.denominator)


def test_catalogue_document_is_json_and_complete():
    doc = json.loads(json.dumps(catalogue_document()))
    assert [m["name"] for m in doc["measures"]] == list(MEASURES)
    assert {d["name"] for d in doc["dimensions"]} == set(DIMENSIONS)
    assert all(m["label"]["nl"] and m["label"]["en"] for m in doc["measures"])
    assert doc["bounds"]["max_year_minutes"] == MAX_YEAR_MINUTES


def test_docs_list_every_measure_and_dimension():
    text = (DOCS / "catalogue.md").read_text(encoding="utf-8")
    missing = [n for n in [*MEASURES, *DIMENSIONS, *TOTALS] if f"`{n}`" not in text]
    assert not missing
