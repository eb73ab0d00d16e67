"""Ingest: round trip, every class of bad input refused with nothing stored, idempotent and
replacing re-uploads, pseudonymisation (raw numbers never reach the database file)."""

from __future__ import annotations

import io
import threading

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from service.db import connect
from service.ingest.batches import IngestError, UnknownSchool, UploadFile, ingest_files
from service.settings import Settings
from support.tiny_register import (
    ABSENCE_HEADER,
    ENROL_HEADER,
    SCHOOL_PO,
    SCHOOL_VO,
    A,
    B,
    C,
    batch,
    csv,
    good_absences,
    good_enrolments,
    load_tiny_register,
    valid_bsn,
)


@pytest.fixture
def con(tmp_path):
    con = connect(tmp_path / "t.duckdb")
    load_tiny_register(con)
    yield con
    con.close()


@pytest.fixture
def settings():
    return Settings(mode="dev")


def counts(con) -> tuple[int, int, int]:
    return tuple(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                 for t in ("batch", "enrolment", "absence"))


def test_round_trip_stores_minutes_and_pseudonyms(con, settings):
    report = ingest_files(con, settings, SCHOOL_PO, batch())
    assert report.status == "stored" and report.school_year == "2025-2026"
    assert (report.enrolment_rows, report.absence_rows) == (3, 5)
    assert counts(con) == (1, 3, 5)
    minutes = con.execute("SELECT reason, minutes FROM absence ORDER BY day, reason").fetchall()
    assert minutes == [("sick", 300), ("authorised", 150), ("late", 15),
                       ("unauthorised", 150), ("suspended", 60)]
    ends = con.execute("SELECT enrolled_to FROM enrolment ORDER BY grade").fetchall()
    assert str(ends[0][0]) == "2026-07-31"  # empty end = end of the school year
    keys = {r[0] for r in con.execute("SELECT pupil_key FROM enrolment").fetchall()}
    assert len(keys) == 3 and all(len(k) == 64 for k in keys)
    # the same pupil gets the same key in both tables
    assert {r[0] for r in con.execute("SELECT pupil_key FROM absence").fetchall()} == keys


def test_pseudonym_depends_on_the_key(tmp_path):
    keys = []
    for secret in ("first-secret-key", "second-secret-key"):
        con = connect(tmp_path / f"{secret}.duckdb")
        load_tiny_register(con)
        ingest_files(con, Settings(mode="dev", hmac_key=secret), SCHOOL_PO, batch())
        keys.append(sorted(r[0] for r in con.execute("SELECT pupil_key FROM enrolment").fetchall()))
        con.close()
    assert keys[0] != keys[1]


def test_raw_pupil_numbers_never_reach_the_database_file(tmp_path, settings):
    path = tmp_path / "scan.duckdb"
    con = connect(path)
    load_tiny_register(con)
    ingest_files(con, settings, SCHOOL_PO, batch())
    con.execute("CHECKPOINT")
    con.close()
    raw = path.read_bytes()
    for number in (A, B, C):
        assert number.encode() not in raw
        assert number.encode("utf-16-le") not in raw
    # the scan itself works: a value we know is stored is found
    assert b"GM0362" in raw


def test_same_content_again_is_a_no_op(con, settings):
    first = ingest_files(con, settings, SCHOOL_PO, batch())
    again = ingest_files(con, settings, SCHOOL_PO, batch())
    assert again.status == "unchanged" and again.batch_id == first.batch_id
    assert counts(con) == (1, 3, 5)


def test_corrected_upload_replaces_the_earlier_one(con, settings):
    first = ingest_files(con, settings, SCHOOL_PO, batch())
    fixed = ingest_files(con, settings, SCHOOL_PO, batch(absent=good_absences()[:2]))
    assert fixed.status == "replaced" and fixed.replaced_batch_id == first.batch_id
    assert counts(con) == (2, 3, 2)
    statuses = con.execute("SELECT batch_id, status, replaced_by FROM batch ORDER BY 1").fetchall()
    assert statuses == [(first.batch_id, "replaced", fixed.batch_id), (fixed.batch_id, "active", None)]


def test_schools_are_kept_apart(con, settings):
    ingest_files(con, settings, SCHOOL_PO, batch())
    vo = [[A, 2011, 2, "GM0363", "2025-09-01", None]]
    ingest_files(con, settings, SCHOOL_VO, batch(enrol=vo, absent=[[A, "2025-09-02", 6, "sick"]]))
    assert counts(con) == (2, 4, 6)


def test_parquet_upload(con, settings):
    enrol = pa.table({
        "pupil_number": [A], "birth_year": [2017], "grade": [3], "residence_municipality": ["GM0363"],
        "enrolled_from": pa.array([__import__("datetime").date(2025, 9, 1)]), "enrolled_to": [None]})
    absent = pa.table({"pupil_number": [A], "date": ["2025-09-02"], "hours": [1.5], "reason": ["late"]})
    files = []
    for name, table in (("enrolments.parquet", enrol), ("absences.parquet", absent)):
        buf = io.BytesIO()
        pq.write_table(table, buf)
        files.append(UploadFile(name, buf.getvalue()))
    assert ingest_files(con, settings, SCHOOL_PO, files).status == "stored"
    assert con.execute("SELECT minutes FROM absence").fetchone()[0] == 90


BAD_ENROLMENTS = [
    ("pupil_number", [["12345678", 2017, 3, "GM0363", "2025-09-01", None]]),
    ("pupil_number", [["123456789", 2017, 3, "GM0363", "2025-09-01", None]]),  # fails the 11-test
    ("birth_year", [[A, "twee", 3, "GM0363", "2025-09-01", None]]),
    ("birth_year", [[A, 1980, 3, "GM0363", "2025-09-01", None]]),
    ("grade", [[A, 2017, 9, "GM0363", "2025-09-01", None]]),
    ("residence_municipality", [[A, 2017, 3, "GM9999", "2025-09-01", None]]),
    ("enrolled_from", [[A, 2017, 3, "GM0363", "01-09-2025", None]]),
    ("enrolled_from", [[A, 2017, 3, "GM0363", "2026-08-01", None]]),
    ("enrolled_to", [[A, 2017, 3, "GM0363", "2025-09-10", "2025-09-01"]]),
    ("enrolled_from", [[A, 2017, 3, "GM0363", "2025-09-01", "2025-09-20"],
                       [A, 2017, 3, "GM0363", "2025-09-15", None]]),  # overlapping periods
]


@pytest.mark.parametrize("field,rows", BAD_ENROLMENTS)
def test_bad_enrolment_rows_are_refused_and_nothing_is_stored(con, settings, field, rows):
    with pytest.raises(IngestError) as info:
        ingest_files(con, settings, SCHOOL_PO, batch(enrol=rows, absent=[]))
    assert any(e.field == field and e.file == "enrolments.csv" and e.row >= 1
               for e in info.value.errors), info.value.errors
    assert counts(con) == (0, 0, 0)


BAD_ABSENCES = [
    ("date", [A, "2025-09-06", 5, "sick"]),          # a Saturday
    ("date", [A, "2025-10-15", 5, "sick"]),          # not in this region's calendar
    ("date", [A, "2 september", 5, "sick"]),
    ("hours", [A, "2025-09-04", 0, "sick"]),
    ("hours", [A, "2025-09-04", 5.5, "sick"]),       # PO day is 5 hours
    ("hours", [A, "2025-09-04", "1.255", "sick"]),
    ("hours", [A, "2025-09-04", "veel", "sick"]),
    ("reason", [A, "2025-09-02", 1, "holiday"]),
    ("pupil_number", [valid_bsn(9), "2025-09-02", 1, "sick"]),  # not enrolled
    ("pupil_number", [B, "2025-09-22", 1, "sick"]),             # enrolment ended on 15 Sep
]


@pytest.mark.parametrize("field,row", BAD_ABSENCES)
def test_bad_absence_rows_are_refused_and_nothing_is_stored(con, settings, field, row):
    rows = good_absences() + [row]
    with pytest.raises(IngestError) as info:
        ingest_files(con, settings, SCHOOL_PO, batch(absent=rows))
    errors = info.value.errors
    assert [e.row for e in errors if e.field == field] == [len(rows)], errors
    assert counts(con) == (0, 0, 0)


def test_one_day_over_the_school_day_in_several_rows(con, settings):
    rows = good_absences() + [[A, "2025-09-02", 1, "late"]]  # 5 h sick + 1 h late on one day
    with pytest.raises(IngestError) as info:
        ingest_files(con, settings, SCHOOL_PO, batch(absent=rows))
    assert {(e.row, e.field) for e in info.value.errors} == {(1, "hours"), (6, "hours")}


def test_errors_never_echo_pupil_numbers(con, settings):
    bad_number = "12345678"
    enrol = good_enrolments() + [[bad_number + "0", 2017, 3, "GM0363", "2025-09-01", None]]
    absent = good_absences() + [[valid_bsn(7), "2025-09-02", 1, "sick"]]
    with pytest.raises(IngestError) as info:
        ingest_files(con, settings, SCHOOL_PO, batch(enrol=enrol, absent=absent))
    text = str(info.value) + repr(info.value.errors)
    assert bad_number not in text and valid_bsn(7) not in text
    assert len(info.value.errors) == 2


def test_every_problem_is_listed_up_to_the_cap(con):
    settings = Settings(mode="dev", max_errors=5)
    rows = [[A, "2025-09-02", 1, "holiday"] for _ in range(12)]
    with pytest.raises(IngestError) as info:
        ingest_files(con, settings, SCHOOL_PO, batch(absent=rows))
    assert len(info.value.errors) == 5 and info.value.truncated


@pytest.mark.parametrize("files,field", [
    ([UploadFile("enrolments.csv", csv([], ENROL_HEADER))], "file"),  # no absence file
    ([UploadFile("enrolments.csv", b"pupil_number,birth_year\n1,2\n"),
      UploadFile("absences.csv", csv([], ABSENCE_HEADER))], "grade"),  # missing columns
    ([UploadFile("enrolments.csv", csv([], ENROL_HEADER + ["name"])),
      UploadFile("absences.csv", csv([], ABSENCE_HEADER))], "name"),  # a column too many
    ([UploadFile("enrolments.xlsx", b"PK"), UploadFile("absences.csv", csv([], ABSENCE_HEADER))], "file"),
    ([UploadFile("pupils.csv", b"x"), UploadFile("absences.csv", csv([], ABSENCE_HEADER))], "file"),
    ([UploadFile("enrolments.csv", "pupil_number,birth_year,grade,residence_municipality,"
                  "enrolled_from,enrolled_to\n\xff".encode("latin-1")),
      UploadFile("absences.csv", csv([], ABSENCE_HEADER))], "pupil_number"),  # not UTF-8
])
def test_bad_files_are_refused(con, settings, files, field):
    with pytest.raises(IngestError) as info:
        ingest_files(con, settings, SCHOOL_PO, files)
    assert any(e.field == field for e in info.value.errors), info.value.errors
    assert counts(con) == (0, 0, 0)


def test_malformed_csv_error_does_not_quote_the_line(con, settings):
    body = ("pupil_number,birth_year,grade,residence_municipality,enrolled_from,enrolled_to\n"
            f"{A},2017,3,GM0363,2025-09-01,\n{B},2016\n").encode()
    with pytest.raises(IngestError) as info:
        ingest_files(con, settings, SCHOOL_PO, [UploadFile("enrolments.csv", body),
                                                UploadFile("absences.csv", csv([], ABSENCE_HEADER))])
    assert B not in str(info.value)
    assert [(e.row, e.field) for e in info.value.errors] == [(2, "row")]


def test_unknown_school(con, settings):
    with pytest.raises(UnknownSchool):
        ingest_files(con, settings, "99ZZ00", batch())


def test_two_concurrent_uploads_of_the_same_batch_store_it_once(con, settings):
    results, errors = [], []

    def upload():
        try:
            results.append(ingest_files(con.cursor(), settings, SCHOOL_PO, batch()).status)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=upload) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(results) == ["stored", "unchanged", "unchanged", "unchanged"]
    assert counts(con) == (1, 3, 5)


def test_an_empty_batch_does_not_replace_a_stored_one_unless_asked(con, settings):
    first = ingest_files(con, settings, SCHOOL_PO, batch())
    with pytest.raises(IngestError) as info:
        ingest_files(con, settings, SCHOOL_PO, batch(enrol=[], absent=[]))
    assert [(e.file, e.row, e.field) for e in info.value.errors] == [("enrolments.csv", 0, "file")]
    assert "replace_with_empty" in str(info.value)
    assert counts(con) == (1, 3, 5)
    emptied = ingest_files(con, settings, SCHOOL_PO, batch(enrol=[], absent=[]),
                           replace_with_empty=True)
    assert (emptied.status, emptied.replaced_batch_id) == ("replaced", first.batch_id)
    assert counts(con) == (2, 0, 0)


def test_an_empty_first_batch_is_stored(con, settings):
    assert ingest_files(con, settings, SCHOOL_PO, batch(enrol=[], absent=[])).status == "stored"
    assert counts(con) == (1, 0, 0)


def test_bom_crlf_case_and_spaces_are_normalised(con, settings):
    enrol = ("\ufeff" + ",".join(ENROL_HEADER) + "\r\n"
             f" {A} ,2017, 3 ,gm0363,2025-09-01,\r\n\r\n").encode("utf-8")
    absent = (",".join(ABSENCE_HEADER) + "\r\n" + f"{A},2025-09-02,1.5, Sick\r\n").encode()
    report = ingest_files(con, settings, "12ab00", [UploadFile("Enrolments.CSV", enrol),
                                                    UploadFile("absences.csv", absent)])
    assert (report.school_id, report.enrolment_rows, report.absence_rows) == (SCHOOL_PO, 1, 1)
    assert con.execute("SELECT school_id, grade, residence_code FROM enrolment").fetchall() \
        == [(SCHOOL_PO, 3, "GM0363")]
    assert con.execute("SELECT minutes, reason FROM absence").fetchall() == [(90, "sick")]


def test_exact_duplicate_absences_are_refused_not_summed(con, settings):
    rows = [[A, "2025-09-02", "1.5", "sick"], [A, "2025-09-02", "1.5", "sick"]]
    with pytest.raises(IngestError) as info:
        ingest_files(con, settings, SCHOOL_PO, batch(absent=rows))
    assert [(e.row, e.field, e.message) for e in info.value.errors] == \
        [(2, "row", "an exact duplicate of row 1")]
    assert counts(con) == (0, 0, 0)


def test_a_fractional_grade_is_refused_not_rounded(con, settings):
    with pytest.raises(IngestError) as info:
        ingest_files(con, settings, SCHOOL_PO,
                     batch(enrol=[[A, 2017, "3.5", "GM0363", "2025-09-01", None]], absent=[]))
    assert [(e.row, e.field) for e in info.value.errors] == [(1, "grade")]
