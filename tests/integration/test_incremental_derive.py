"""Incremental derive (`derive.rederive`) against the full rebuild, on real DuckDB files.

Random sequences of school uploads through the real ingest (validation, pseudonymisation,
replacement): new batches, replacements by other pupils, by fewer pupils, by an empty batch,
pupils enrolled at two schools and pupils who move between schools (their main school
changes), with derives at random moments in between (several uploads served by one derive).
After every derive, the incrementally derived tables of one database (whose full derives run
in chunks of a few pupils) equal, row for row, a one-pass full rebuild of a second database
that received the same uploads; both also agree on the data version. Planting the bugs this guards against (forgetting the replaced batch's pupils,
or a mover's rows at the other school) makes the test fail.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from service.db import connect
from service.ingest import derive
from service.ingest.batches import UploadFile, ingest_files
from service.settings import Settings
from support.derive_data import YEAR, Data, make_register, school_days
from support.tiny_register import ABSENCE_HEADER, ENROL_HEADER, csv, valid_bsn

#: (school, sector, holiday region) of tests/integration/test_derive.py's register.
SCHOOLS = [("01AA00", "PO", "midden"), ("02BB00", "PO", "midden"), ("03CC00", "VO", "noord"),
           ("04DD00", "SO", "midden")]
DAY_MINUTES = {"PO": 300, "SO": 300, "VO": 360}
GRADES = {"PO": 8, "SO": 8, "VO": 6}
PUPILS = [valid_bsn(i) for i in range(1, 19)]       # a small pool: pupils meet at many schools
TABLES = {"pupil_year": "pupil_key", "pupil_week": "pupil_tag, week_index",
          "pupil_month": "pupil_tag, month"}


def _batch(rng: random.Random, school: int, pupils: list[str]) -> list[UploadFile]:
    """One school's upload: each pupil has one or two enrolment periods (a gap between) and
    absences on some of their school days (whole or part days, one or two reasons)."""
    _, sector, region = SCHOOLS[school]
    days = school_days(region)
    enrol, absent = [], []
    for number in pupils:
        cut = sorted(rng.sample(range(len(days)), 4))
        periods = [(cut[0], cut[1]), (cut[2], cut[3])] if rng.random() < 0.3 else [(cut[0], cut[3])]
        for first, last in periods:
            open_end = last == periods[-1][1] and rng.random() < 0.3
            enrol.append([number, 2012 if sector == "VO" else 2016, rng.randint(1, GRADES[sector]),
                          rng.choice(["GM0001", "GM0002", "GM0003"]), days[first],
                          "" if open_end else days[last]])
            span = days[first:] if open_end else days[first:last + 1]
            for day in rng.sample(span, min(len(span), rng.choice([0, 1, 3, 8]))):
                day_hours = DAY_MINUTES[sector] // 60
                if rng.random() < 0.3:
                    split = rng.randint(1, day_hours - 1)
                    absent.append([number, day, split, "sick"])
                    absent.append([number, day, day_hours - split, rng.choice(["late", "suspended"])])
                else:
                    absent.append([number, day, rng.choice([1, 2, day_hours]),
                                   rng.choice(["sick", "authorised", "unauthorised", "late"])])
    return [UploadFile("enrolments.csv", csv(enrol, ENROL_HEADER)),
            UploadFile("absences.csv", csv(absent, ABSENCE_HEADER))]


def _rows(con, table: str) -> list[tuple]:
    return con.execute(f"SELECT * EXCLUDE (school_year) FROM {table} WHERE school_year = ? "
                       f"ORDER BY ALL", [YEAR]).fetchall()


def _version(con) -> tuple:
    return con.execute("SELECT batches_hash, batches FROM derived_version WHERE school_year = ?",
                       [YEAR]).fetchone()


def _pending(con) -> int:
    return con.execute("SELECT (SELECT count(*) FROM derive_pending_batch) "
                       "+ (SELECT count(*) FROM derive_pending_pupil)").fetchone()[0]


@pytest.fixture
def pair(tmp_path):
    """Two databases on the same register and HMAC key: one derived incrementally, one in full."""
    settings = Settings(mode="dev", db=tmp_path / "incremental.duckdb")
    cons = [connect(tmp_path / "incremental.duckdb"), connect(tmp_path / "full.duckdb")]
    for con in cons:
        make_register(con)
    yield settings, cons
    for con in cons:
        con.close()


def _check(cons) -> None:
    incremental, full = cons
    derive.rederive(incremental, YEAR, chunk_pupils=5)
    derive.rebuild(full, YEAR, chunk_pupils=None)       # one pass, no chunks
    for table in TABLES:
        assert _rows(incremental, table) == _rows(full, table), table
    assert _version(incremental) == _version(full)
    assert _pending(incremental) == 0


@pytest.mark.parametrize("seed", range(6))
def test_incremental_derive_equals_a_full_rebuild_after_any_uploads(pair, seed):
    settings, cons = pair
    rng = random.Random(seed)
    current: dict[int, list[str]] = {}          # school -> pupils of its active batch
    # the first derive of a year is a full one (nothing to update yet)
    first = rng.randrange(len(SCHOOLS))
    current[first] = rng.sample(PUPILS, 8)
    files = _batch(rng, first, current[first])
    for con in cons:
        ingest_files(con, settings, SCHOOLS[first][0], files, YEAR)
    _check(cons)
    for step in range(14):
        school = rng.randrange(len(SCHOOLS))
        action = rng.choice(["new", "new", "fewer", "empty", "movers"])
        old = current.get(school, [])
        if action == "fewer" and old:
            pupils = rng.sample(old, rng.randint(0, len(old) - 1))
        elif action == "empty":
            pupils = []
        elif action == "movers":    # pupils of another school's active batch come here too
            others = [p for s, ps in current.items() if s != school for p in ps]
            pupils = sorted(set(rng.sample(others, min(len(others), 3))) | set(old[:2]))
        else:
            pupils = rng.sample(PUPILS, rng.randint(1, 9))
        current[school] = pupils
        files = _batch(rng, school, pupils)
        for con in cons:            # an empty batch replaces a stored one only when asked
            ingest_files(con, settings, SCHOOLS[school][0], files, YEAR,
                         replace_with_empty=not pupils)
        if rng.random() < 0.5 or step == 13:
            _check(cons)
    # the incremental side really took the incremental path: its year was derived once in full
    assert derive.derive_code() == cons[0].execute(
        "SELECT derive_code FROM derived_version").fetchone()[0]


def test_a_pupil_who_moves_school_gets_one_main_school(pair):
    """A pupil at school A (15 days, absent 2 of them) is uploaded by school B for the rest of
    the year: after B's upload alone, the pupil's main school is B, the possible minutes cover
    both schools and the absences at A still count, though A's batch was not touched."""
    settings, cons = pair
    mover, stay = PUPILS[0], PUPILS[1]
    days = school_days("midden")
    a_files = [UploadFile("enrolments.csv", csv([[mover, 2016, 3, "GM0001", days[0], days[14]],
                                                 [stay, 2016, 4, "GM0002", days[0], ""]],
                                                ENROL_HEADER)),
               UploadFile("absences.csv", csv([[mover, days[1], 5, "sick"],
                                               [mover, days[2], 5, "unauthorised"]],
                                              ABSENCE_HEADER))]
    b_files = [UploadFile("enrolments.csv", csv([[mover, 2016, 3, "GM0001", days[15], ""]],
                                                ENROL_HEADER)),
               UploadFile("absences.csv", csv([[mover, days[20], 2, "late"]], ABSENCE_HEADER))]
    for con in cons:
        ingest_files(con, settings, "01AA00", a_files, YEAR)
    _check(cons)
    for con in cons:
        ingest_files(con, settings, "02BB00", b_files, YEAR)
    _check(cons)
    rows = cons[0].execute("SELECT school_id, n_schools, possible_minutes, absent_minutes "
                           "FROM pupil_year ORDER BY n_schools").fetchall()
    assert rows == [("01AA00", 1, 50 * 300, 0), ("02BB00", 2, 50 * 300, 600 + 120)]


def test_pupils_sharing_a_tag_are_derived_together(tmp_path):
    """pupil_week and pupil_month rows are deleted by pupil_tag (16 characters of the key): a
    pupil whose tag equals a touched pupil's, at the same school, keeps correct weeks and months
    though no upload named them (at another school the delete's school filter spares them)."""
    con = connect(tmp_path / "tags.duckdb")
    make_register(con)
    data = Data(con)
    twin_a, twin_b = "a" * 16 + "1" * 48, "a" * 16 + "2" * 48
    data.enrol(twin_a, "01AA00")
    data.enrol(twin_b, "01AA00")
    data.absent(twin_b, "01AA00", school_days("midden")[:3], 300)
    derive.rebuild(con, YEAR)
    expected = {table: _rows(con, table) for table in ("pupil_week", "pupil_month")}
    # twin_a's school uploads again (here: the pending row its upload would write)
    con.execute("INSERT INTO derive_pending_pupil VALUES (?, ?)", [YEAR, twin_a])
    derive.rederive(con, YEAR)
    for table, rows in expected.items():
        assert _rows(con, table) == rows, table
        assert len({r[0] for r in rows}) == 1 and len(rows) > 2
        # both pupils' rows are there: two rows of the tag for every week and month
        assert set(Counter(r[1] for r in rows).values()) == {2}, table
    con.close()


def test_a_year_not_derived_in_full_by_this_code_is_rebuilt(pair):
    settings, cons = pair
    rng = random.Random(3)
    files = _batch(rng, 2, PUPILS[:5])
    incremental, full = cons
    for con in cons:
        ingest_files(con, settings, "03CC00", files, YEAR)
    derive.rebuild(full, YEAR)
    derive.rederive(incremental, YEAR)        # never derived: a full rebuild
    for table in TABLES:
        assert _rows(incremental, table) == _rows(full, table)
    # other derive code: the pending pupils alone would leave the other rows stale
    incremental.execute("UPDATE derived_version SET derive_code = 'older'")
    incremental.execute("UPDATE pupil_year SET absent_minutes = absent_minutes + 1")
    derive.rederive(incremental, YEAR)
    assert _rows(incremental, "pupil_year") == _rows(full, "pupil_year")


def test_a_full_derive_in_chunks_equals_one_pass(pair):
    """Chunks of main schools (a pupil enrolled at two schools is derived once, in the chunk
    of the main school) give the one-pass rows; the rows of one chunk's schools lie together."""
    settings, cons = pair
    rng = random.Random(11)
    for school in range(len(SCHOOLS)):
        files = _batch(rng, school, rng.sample(PUPILS, 9))
        for con in cons:
            ingest_files(con, settings, SCHOOLS[school][0], files, YEAR)
    chunked, one_pass = cons
    summary = derive.rebuild(chunked, YEAR, chunk_pupils=4)
    derive.rebuild(one_pass, YEAR, chunk_pupils=None)
    assert summary.seconds["pupil_chunk_scope"] > 0
    for table in TABLES:
        assert _rows(chunked, table) == _rows(one_pass, table), table
    assert chunked.execute("SELECT count(*) FROM pupil_year WHERE n_schools > 1").fetchone()[0]


def test_an_upload_committed_during_a_derive_stays_pending(pair, monkeypatch):
    """A school uploads (its own transaction commits) while the writer's derive is between its
    statements: the derive commits what it read, the new upload stays pending, and the next
    derive brings the tables to the full rebuild's rows."""
    settings, cons = pair
    rng = random.Random(5)
    first = _batch(rng, 0, PUPILS[:6])
    for con in cons:
        ingest_files(con, settings, "01AA00", first, YEAR)
    _check(cons)
    incremental, full = cons
    for con in cons:
        ingest_files(con, settings, "02BB00", _batch(random.Random(6), 1, PUPILS[4:10]), YEAR)
    late = _batch(rng, 0, PUPILS[2:5])          # 01AA00 again, replacing its first batch
    real_statements = derive.statements
    upload = incremental.cursor()

    def upload_midway(name):
        if name == "derive_pupil_week" and upload is not None and not _pending_batches(upload):
            ingest_files(upload, settings, "01AA00", late, YEAR)
        return real_statements(name)

    def _pending_batches(cur):
        return cur.execute("SELECT count(*) FROM batch WHERE status = 'replaced'").fetchone()[0]

    monkeypatch.setattr(derive, "statements", upload_midway)
    derive.rederive(incremental, YEAR, chunk_pupils=5)
    monkeypatch.setattr(derive, "statements", real_statements)
    assert _pending_batches(upload) == 1                     # the upload happened midway
    assert _pending(incremental) > 0                         # and is still to be derived
    ingest_files(full, settings, "01AA00", late, YEAR)
    _check(cons)
    upload.close()
