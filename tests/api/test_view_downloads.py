"""Downloads of the view (docs/page.md, "Downloads"): `/v1/compare` and the weekly series
answer in CSV for `format=csv` and for `Accept: text/csv`, read back with pandas they hold the
JSON answer's numbers, and any other Accept still gets JSON or a 406. On the pipeline's own
standard release and three released weeks."""

from __future__ import annotations

import io
import math

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.compare.summary import standing
from service.releases.standard import publish_standard

YEAR = "2025-2026"
CSV = "text/csv"


@pytest.fixture(scope="module")
def client(synthetic_weeks):
    con, settings = synthetic_weeks
    publish_standard(con, settings, YEAR)
    with TestClient(create_app(settings)) as c:
        yield c


def _frame(response) -> pd.DataFrame:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(CSV)
    assert response.headers["vary"] == "Accept"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    return pd.read_csv(io.StringIO(response.text), keep_default_na=True)


def _same(a, b) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return b is not None and not (isinstance(b, float) and math.isnan(b)) and math.isclose(a, b, rel_tol=1e-12)


@pytest.mark.parametrize("how", ["format", "accept"])
@pytest.mark.parametrize("measure,level", [("absence_rate", "municipality"), ("enrolled", "province")])
def test_a_level_as_csv_holds_the_json_answers_numbers(client, how, measure, level):
    params = {"measure": measure, "level": level}
    body = client.get("/v1/compare", params=params, headers={"Accept": "application/json"}).json()
    if how == "format":
        answer = client.get("/v1/compare", params={**params, "format": "csv"})
    else:
        answer = client.get("/v1/compare", params=params, headers={"Accept": CSV})
    frame = _frame(answer)
    assert len(frame) == 1 + len(body["areas"])
    assert (frame.iloc[0]["level"], frame.iloc[0]["code"]) == ("country", "NL")
    rows = frame.iloc[1:].set_index("code")
    for area in body["areas"]:
        row = rows.loc[area["code"]]
        for col in ("estimate", "lower", "upper", "sd", "shown"):
            assert _same(area[col], float(row[col])), (area["code"], col)
        assert (pd.isna(row["rank"]) and area["rank"] is None) or int(row["rank"]) == area["rank"]
        assert bool(row["ranked"]) is area["ranked"]
        assert (pd.isna(row["pupils"]) and area["pupils"] is None) or int(row["pupils"]) == area["pupils"]
        assert row["verdict"] == ("no_estimate" if area["estimate"] is None else standing(area))
    assert set(frame["verdict"].fillna("")) <= {"", "higher", "lower", "same", "not_compared", "no_estimate"}


def test_chosen_areas_differences_as_csv(client):
    params = {"measure": "absence_rate", "areas": "province:PV27,province:PV28,province:PV20"}
    body = client.get("/v1/compare", params=params).json()
    frame = _frame(client.get("/v1/compare", params={**params, "format": "csv", "table": "differences"}))
    assert len(frame) == len(body["differences"]) == 3
    for d, (_, row) in zip(body["differences"], frame.iterrows()):
        assert (row["a"], row["b"]) == (d["a"], d["b"])
        assert _same(d["difference"], float(row["difference"]))
        assert row["text_nl"] == d["text"]["nl"] and row["text_en"] == d["text"]["en"]


def test_accept_still_negotiates(client):
    params = {"measure": "absence_rate", "level": "province"}
    assert client.get("/v1/compare", params=params).headers["content-type"].startswith("application/json")
    both = client.get("/v1/compare", params=params, headers={"Accept": "application/json, text/csv"})
    assert both.headers["content-type"].startswith("application/json")
    assert client.get("/v1/compare", params=params, headers={"Accept": "image/png"}).status_code == 406
    # an error stays problem+json whatever was asked
    bad = client.get("/v1/compare", params={"measure": "nonsense", "level": "province", "format": "csv"})
    assert bad.status_code in (400, 422) and "json" in bad.headers["content-type"]


@pytest.mark.parametrize("how", ["format", "accept"])
def test_the_weekly_series_as_csv(client, how):
    params = {"measure": "attendance_rate_4wk", "level": "country", "area": "NL"}
    body = client.get(f"/v1/weekly/{YEAR}/series", params=params).json()
    if how == "format":
        answer = client.get(f"/v1/weekly/{YEAR}/series", params={**params, "format": "csv"})
    else:
        answer = client.get(f"/v1/weekly/{YEAR}/series", params=params, headers={"Accept": CSV})
    frame = _frame(answer)
    assert list(frame["week"]) == [p["week"] for p in body["data"]] and len(frame) == 3
    for point, (_, row) in zip(body["data"], frame.iterrows()):
        for col in ("estimate", "lower", "upper", "sd"):
            assert _same(point[col], float(row[col]))
        assert row["release_id"] == point["release_id"]
