"""GET /v1/catalog and the paginated register lists (page, pageSize, Link, X-Total-Count)."""

from __future__ import annotations

from support.tiny_register import SCHOOL_PO, SCHOOL_VO


def test_catalog_lists_levels_areas_and_datasets(client):
    response = client.get("/v1/catalog")
    assert response.status_code == 200
    doc = response.json()
    assert {"measures", "dimensions", "levels", "areas", "datasets"} <= set(doc)
    levels = {lv["level"] for lv in doc["levels"]}
    assert {"country", "province", "municipality", "rmc", "swv_po", "swv_vo"} <= levels
    amsterdam = next(a for a in doc["areas"] if a["code"] == "GM0363")
    assert amsterdam == {"level": "municipality", "code": "GM0363", "name": "Amsterdam",
                         "parent_level": "province", "parent_code": "PV27"}
    assert len(doc["areas"]) == 7
    assert doc["datasets"] == [{"id": "2025-2026", "school_year": "2025-2026",
                                "first_day": "2025-08-01", "last_day": "2026-07-31"}]


def test_catalog_does_not_depend_on_uploads(client, keys):
    from support.api_client import upload_files

    before = client.get("/v1/catalog").json()
    assert client.post("/v1/uploads", files=upload_files(),
                       headers=keys.header("school")).status_code == 201
    assert client.get("/v1/catalog").json() == before


def test_areas_are_paginated_with_link_headers(client):
    first = client.get("/v1/areas", params={"pageSize": 3})
    assert first.status_code == 200
    body = first.json()
    assert (body["count"], body["page"], body["pageSize"], len(body["data"])) == (7, 1, 3, 3)
    assert first.headers["x-total-count"] == "7"
    links = first.headers["link"]
    assert 'page=2&pageSize=3>; rel="next"' in links
    assert 'page=3&pageSize=3>; rel="last"' in links and 'rel="prev"' not in links
    last = client.get("/v1/areas", params={"pageSize": 3, "page": 3})
    assert len(last.json()["data"]) == 1 and 'rel="next"' not in last.headers["link"]
    seen = [a["code"] for p in (1, 2, 3)
            for a in client.get("/v1/areas", params={"pageSize": 3, "page": p}).json()["data"]]
    assert len(seen) == len(set(seen)) == 7
    beyond = client.get("/v1/areas", params={"pageSize": 3, "page": 9})
    assert beyond.status_code == 200 and beyond.json()["data"] == []


def test_area_filters_keep_other_query_parameters_in_links(client):
    response = client.get("/v1/areas", params={"level": "municipality", "pageSize": 1})
    assert [a["code"] for a in response.json()["data"]] == ["GM0362"]
    assert "level=municipality" in response.headers["link"]
    children = client.get("/v1/areas", params={"parent": "PV27"}).json()["data"]
    assert {a["code"] for a in children} == {"GM0362", "GM0363"}


def test_schools_list_and_filter(client):
    every = client.get("/v1/schools").json()
    assert {s["school_id"] for s in every["data"]} == {SCHOOL_PO, SCHOOL_VO}
    vo = client.get("/v1/schools", params={"sector": "VO"}).json()["data"]
    assert [s["school_id"] for s in vo] == [SCHOOL_VO]
