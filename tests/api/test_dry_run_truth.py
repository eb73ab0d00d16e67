"""The dry run tells the truth through real HTTP on a real DuckDB file: a query already
answered on the current data is free (and says which release), a school's upload makes the
same question new and costed again, and the 201 and 409 carry the same facts (cost, what is
left after it, whether it fits, the most accurate request that does)."""

from __future__ import annotations

from support.api_client import absences_csv, enrolments_csv

QUERY = {"measure": "absence_rate", "group_by": ["sector", "municipality"],
         "budget": {"rho": "0.01"}}


def _upload(client, keys, hours):
    files = [("files", ("enrolments.csv", enrolments_csv())),
             ("files", ("absences.csv", absences_csv(hours)))]
    r = client.post("/v1/uploads", files=files, headers=keys.header("school"))
    assert r.status_code in (200, 201), r.text
    assert client.app.state.writer.idle()        # the derive the upload queued has run


def _dry(client, h, body=QUERY):
    r = client.post("/v1/queries", json={**body, "dry_run": True}, headers=h)
    assert r.status_code == 200, r.text
    return r.json()


def test_dry_run_says_stored_free_then_costs_again_after_an_upload(client, keys):
    h = keys.header("researcher")
    _upload(client, keys, "5")
    new = _dry(client, h)
    assert new["stored"] is None and new["fits"] is True
    assert new["cost"]["charged_now"]["rho"] == "1/100"
    assert new["left_now"]["principal"]["rho"] == "1/20"
    assert new["left_after"]["principal"]["rho"] == "1/25"            # 0.05 − 0.01
    assert "costs ρ 0.01" in new["summary"] and "0.04 after this" in new["summary"]

    first = client.post("/v1/queries", json=QUERY, headers=h)
    assert first.status_code == 201, first.text
    answer = first.json()
    assert answer["cost"]["rho"] == "1/100" and answer["left_after"]["principal"]["rho"] == "1/25"
    assert answer["fits"] is True and "Charged ρ 0.01" in answer["summary"]

    again = _dry(client, h)
    assert again["stored"]["release_id"] == answer["release_id"]
    assert again["cost"]["charged_now"]["rho"] == "0"
    assert again["left_after"]["principal"]["rho"] == "1/25"
    assert "free" in again["summary"]
    repeat = client.post("/v1/queries", json=QUERY, headers=h)
    assert repeat.status_code == 200 and repeat.json()["cost"]["rho"] == "0"
    assert repeat.json()["stored"] is True

    _upload(client, keys, "4")             # a school's upload, derived: new data version
    after = _dry(client, h)
    assert after["stored"] is None
    assert after["cost"]["charged_now"]["rho"] == "1/100"
    assert after["left_after"]["principal"]["rho"] == "3/100"
    assert "New on the current data" in after["summary"]


def test_a_refusal_carries_the_facts_and_the_request_that_fits(client, keys):
    h = keys.header("researcher")
    _upload(client, keys, "5")
    big = {**QUERY, "budget": {"rho": "0.06"}}
    dry = _dry(client, h, big)
    assert dry["fits"] is False
    fits = dry["most_accurate_that_fits"]
    assert fits["budget"]["rho"] == "0.05"
    assert fits["expected"]["unit"] == "percentage_points"
    assert "your allowance cannot pay" in dry["summary"]

    r = client.post("/v1/queries", json=big, headers=h)
    assert r.status_code == 409
    problem = r.json()
    assert problem["fits"] is False
    assert problem["most_accurate_that_fits"] == fits
    for word in ("principal", "micro"):
        assert word not in problem["detail"] and word not in problem["summary"]
    assert "your allowance" in problem["detail"] and "Nothing was spent" in problem["detail"]
    assert client.post("/v1/queries", json={**QUERY, "budget": fits["budget"]},
                       headers=h).status_code == 201
