"""Request identity through real HTTP on a real DuckDB file: a permuted group-by is the same
query (free, byte-identical); a derive on new data (another set of active batches) makes the
same question a new, charged release; a change to a bound changes the code version."""

from __future__ import annotations

from service.ingest.batches import UploadFile, ingest_files
from service.releases import identity
from service.releases.catalogue import validate_query
from support.api_client import absences_csv, enrolments_csv
from support.tiny_register import SCHOOL_PO

QUERY = {"measure": "absence_rate", "group_by": ["sector", "municipality"],
         "budget": {"rho": "0.01"}}


def _upload(client, keys, hours="5"):
    files = [("files", ("enrolments.csv", enrolments_csv())),
             ("files", ("absences.csv", absences_csv(hours)))]
    r = client.post("/v1/uploads", files=files, headers=keys.header("school"))
    assert r.status_code in (200, 201), r.text
    return r.json()


def _derive(client):
    """Wait for the background derive an upload queued (the writer thread)."""
    assert client.app.state.writer.idle()


def _store_without_derive(client, settings, hours):
    """A batch stored straight into the database (no job): the derived tables lag behind."""
    cur = client.app.state.con.cursor()
    try:
        ingest_files(cur, settings, SCHOOL_PO, [UploadFile("enrolments.csv", enrolments_csv()),
                                                UploadFile("absences.csv", absences_csv(hours))])
    finally:
        cur.close()


def test_group_by_is_sorted_in_the_canonical_query():
    assert validate_query("absence_rate", ["sector", "municipality"]) == \
        validate_query("absence_rate", ["municipality", "sector"])


def test_permuted_group_by_is_free_and_new_data_is_a_new_release(client, keys, settings):
    _upload(client, keys)
    _derive(client)
    h = keys.header("researcher")
    first = client.post("/v1/queries", json=QUERY, headers=h)
    assert first.status_code == 201, first.text
    permuted = client.post("/v1/queries", json={**QUERY, "group_by": ["municipality", "sector"]},
                           headers=h)
    assert permuted.status_code == 200 and not permuted.json()["charged"]
    assert permuted.json()["rows"] == first.json()["rows"]
    assert permuted.json()["release_id"] == first.json()["release_id"]
    spent = client.get("/v1/budget", headers=h).json()["allowance"]["spent"]["rho"]
    assert spent == "1/100"

    # stored but not derived: the derived tables (and so the answer) are unchanged
    _store_without_derive(client, settings, hours="3")
    same = client.post("/v1/queries", json=QUERY, headers=h)
    assert same.status_code == 200 and same.json()["release_id"] == first.json()["release_id"]

    _upload(client, keys, hours="4")      # through the API: derived in the background
    _derive(client)                       # a new set of active batches behind the tables
    fresh = client.post("/v1/queries", json=QUERY, headers=h)
    assert fresh.status_code == 201 and fresh.json()["charged"]
    assert fresh.json()["release_id"] != first.json()["release_id"]
    assert client.get("/v1/budget", headers=h).json()["allowance"]["spent"]["rho"] == "1/50"
    stored = client.get(f"/v1/releases/{fresh.json()['release_id']}", params={"format": "json"})
    assert stored.status_code == 200
    spec = stored.json()["spec"]
    assert spec["identity"]["code_version"] == identity.code_version()
    assert spec["identity"]["data_version"].startswith("1:")     # the one active batch


def test_a_bound_change_is_a_new_code_version(monkeypatch):
    before = identity.code_version()
    import service.releases.identity as module
    monkeypatch.setattr(module, "derive_parameters",
                        lambda: {"max_year_minutes": 1, "max_week_minutes": 1})
    module.code_version.cache_clear()
    try:
        assert module.code_version() != before
    finally:
        monkeypatch.undo()
        module.code_version.cache_clear()
    assert identity.code_version() == before
