"""POST /v1/uploads: own school only, the batch report, 400 listing every row error with
nothing stored, 413 over the size limit, idempotent re-uploads, concurrency."""

from __future__ import annotations

import threading

from support.api_client import PUPILS, enrolments_csv, upload_files
from support.tiny_register import SCHOOL_PO, SCHOOL_VO


def batches(client) -> int:
    cur = client.app.state.con.cursor()
    try:
        return cur.execute("SELECT count(*) FROM batch").fetchone()[0]
    finally:
        cur.close()


def test_upload_stores_then_is_unchanged_then_replaced(client, keys):
    school = keys.header("school")
    first = client.post("/v1/uploads", files=upload_files(), headers=school)
    assert first.status_code == 201, first.text
    report = first.json()
    assert report["status"] == "stored" and report["school_id"] == SCHOOL_PO
    assert report["school_year"] == "2025-2026"
    assert (report["enrolment_rows"], report["absence_rows"]) == (3, 2)
    assert first.headers["cache-control"] == "no-store"

    again = client.post("/v1/uploads", files=upload_files(), headers=school,
                        data={"school": SCHOOL_PO.lower()})
    assert again.status_code == 200
    assert again.json()["status"] == "unchanged"
    assert again.json()["batch_id"] == report["batch_id"]

    corrected = client.post("/v1/uploads", files=upload_files(hours="4"), headers=school)
    assert corrected.status_code == 201
    assert corrected.json()["status"] == "replaced"
    assert corrected.json()["replaced_batch_id"] == report["batch_id"]
    assert batches(client) == 2


def test_a_school_cannot_upload_for_another_school(client, keys):
    response = client.post("/v1/uploads", files=upload_files(), data={"school": SCHOOL_VO},
                           headers=keys.header("school"))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert batches(client) == 0


def test_a_bad_file_gives_400_with_every_row_error_and_stores_nothing(client, keys):
    bad = enrolments_csv().replace(b"2017,3,GM0363", b"2017,99,GM9999")
    files = [("files", ("enrolments.csv", bad, "text/csv")), upload_files()[1]]
    response = client.post("/v1/uploads", files=files, headers=keys.header("school"))
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "urn:aanwezig:problem:invalid-upload"
    assert body["truncated"] is False
    fields = {(e["file"], e["row"], e["field"]) for e in body["errors"]}
    assert ("enrolments.csv", 1, "grade") in fields
    assert ("enrolments.csv", 1, "residence_municipality") in fields
    assert all(e["in"] == "file" and e["message"] for e in body["errors"])
    assert not any(p in response.text for p in PUPILS), "a pupil number in an error"
    assert batches(client) == 0


def test_missing_files_is_400_and_a_form_that_cannot_hold_files_415(client, keys):
    urlencoded = client.post("/v1/uploads", data={"school": SCHOOL_PO}, headers=keys.header("school"))
    assert urlencoded.status_code == 415
    assert urlencoded.headers["accept-post"] == "multipart/form-data"
    response = client.post("/v1/uploads", files=[("school", (None, SCHOOL_PO))],
                           headers=keys.header("school"))
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"in": "body", "field": "files", "message": "Field required"}]


def test_an_upload_over_the_size_limit_is_413_and_stores_nothing(client, keys, settings):
    padding = b"x" * (settings.max_upload_bytes + 1)
    files = upload_files() + [("files", ("notes.txt", padding, "text/plain"))]
    response = client.post("/v1/uploads", files=files, headers=keys.header("school"))
    assert response.status_code == 413
    assert response.json()["status"] == 413
    assert batches(client) == 0


def test_a_school_that_left_the_register_gets_400(client, keys):
    cur = client.app.state.con.cursor()
    cur.execute("DELETE FROM school WHERE school_id = ?", [SCHOOL_PO])
    cur.close()
    response = client.post("/v1/uploads", files=upload_files(), headers=keys.header("school"))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "school"


def test_two_concurrent_uploads_of_the_same_batch_store_it_once(client, keys):
    results = []

    def upload() -> None:
        results.append(client.post("/v1/uploads", files=upload_files(),
                                   headers=keys.header("school")))

    threads = [threading.Thread(target=upload) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in results) == [200, 201]
    assert sorted(r.json()["status"] for r in results) == ["stored", "unchanged"]
    assert batches(client) == 1


def test_the_database_file_never_holds_the_raw_pupil_numbers(client, keys, settings):
    assert client.post("/v1/uploads", files=upload_files(),
                       headers=keys.header("school")).status_code == 201
    assert client.app.state.writer.idle()   # the background derive has committed
    client.app.state.con.execute("CHECKPOINT")
    raw = settings.db.read_bytes()
    assert not any(p.encode() in raw for p in PUPILS)


def test_an_empty_batch_replaces_a_stored_one_only_when_the_form_says_so(client, keys):
    from support.tiny_register import ABSENCE_HEADER, ENROL_HEADER, csv
    school = keys.header("school")
    assert client.post("/v1/uploads", files=upload_files(), headers=school).status_code == 201
    empty = [("files", ("enrolments.csv", csv([], ENROL_HEADER), "text/csv")),
             ("files", ("absences.csv", csv([], ABSENCE_HEADER), "text/csv"))]
    refused = client.post("/v1/uploads", files=empty, headers=school)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "file"
    assert "replace_with_empty" in refused.json()["errors"][0]["message"]
    assert batches(client) == 1
    emptied = client.post("/v1/uploads", files=empty, headers=school,
                          data={"replace_with_empty": "true"})
    assert emptied.status_code == 201 and emptied.json()["status"] == "replaced"
    assert (emptied.json()["enrolment_rows"], emptied.json()["absence_rows"]) == (0, 0)
