"""GET /v1/compare on a release whose cells are built so the truth is known, and the coverage
of the difference interval on reconciled data (privacy.consistency) with a known truth."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from privacy.consistency import Level, Measured, reconcile
from privacy.statistics import difference
from service.api.app import create_app
from service.compare import comparison as compare
from service.db import connect
from support.compare_data import Z, make_database


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return make_database(tmp_path_factory.mktemp("compare") / "c.duckdb")


@pytest.fixture(scope="module")
def client(db):
    with TestClient(create_app(db[0])) as c:
        yield c


def test_a_pair_within_the_noise_and_a_pair_beyond_it(client, db):
    r = client.get("/v1/compare", params={"measure": "absence_rate",
                                          "areas": "municipality:GM0363,municipality:GM0599,municipality:GM0014"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["release_id"] == db[1] and body["cost"]["rho"] == "0"
    assert body["national"]["estimate"] == pytest.approx(0.064)
    diffs = {(d["a"], d["b"]): d for d in body["differences"]}
    assert len(diffs) == 3
    same = diffs[("municipality:GM0363", "municipality:GM0599")]
    assert same["distinguishable"] is False and not same["nested"]
    # this hand-built release carries no covariance model: the two are taken as independent
    assert same["covariance"] is None and same["rule"] == "covariance"
    sd = np.hypot(0.002, 0.002)
    assert same["difference"] == pytest.approx(-0.002)
    assert same["lower"] == pytest.approx(-0.002 - Z * sd) and same["upper"] == pytest.approx(-0.002 + Z * sd)
    assert "valt binnen de ruis" in same["text"]["nl"] and "within the noise" in same["text"]["en"]
    real = diffs[("municipality:GM0363", "municipality:GM0014")]
    assert real["distinguishable"] is True and real["lower"] > 0
    assert "groter dan de ruis" in real["text"]["nl"] and "hoger" in real["text"]["nl"]
    assert "larger than the noise" in real["text"]["en"]
    amsterdam = next(a for a in body["areas"] if a["code"] == "GM0363")
    assert amsterdam["text"]["nl"].startswith("95% zeker tussen 7,6% en 8,4%")
    assert amsterdam["vs_national"]["distinguishable"] and amsterdam["vs_national"]["nested"]


def test_all_areas_of_a_level_against_the_country(client):
    body = client.get("/v1/compare", params={"measure": "absence_rate", "level": "province"}).json()
    assert len(body["areas"]) == 12 and body["differences"] == []
    assert sorted(a["rank"] for a in body["areas"]) == list(range(1, 13))
    for area in body["areas"]:
        vs = area["vs_national"]
        # against the Netherlands over a level: the false discovery rate controlled (issue 23)
        assert vs["decision"] == "fdr_bh" and vs["compared"] == 12
        assert vs["excludes_alone"] == (vs["lower"] > 0 or vs["upper"] < 0)
        if vs["distinguishable"]:
            assert vs["excludes_alone"] and vs["p_value"] <= vs["threshold"]
    counts = client.get("/v1/compare", params={"measure": "enrolled", "level": "municipality"}).json()
    assert len(counts["areas"]) == 342 and all(a["vs_national"] is None for a in counts["areas"])


def test_nested_pairs_are_marked(client):
    body = client.get("/v1/compare", params={"measure": "absence_rate",
                                             "areas": "municipality:GM0363,province:PV27"}).json()
    (d,) = body["differences"]
    assert d["nested"] and d["rule"] in ("covariance", "a_known", "b_known")


def test_sector_only_where_released(client):
    body = client.get("/v1/compare", params={"measure": "absence_rate", "areas": "country:NL",
                                             "sector": "PO"}).json()
    assert body["national"]["estimate"] == pytest.approx(0.05)
    r = client.get("/v1/compare", params={"measure": "absence_rate", "level": "province", "sector": "PO"})
    # cells the release does not have: 404 naming the parameter (issue 25)
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "level"


@pytest.mark.parametrize("params, fields", [
    ({"measure": "nope", "level": "province"}, {"measure"}),
    # malformed lists are refused by the pattern the OpenAPI document states
    ({"measure": "absence_rate", "areas": "municipality:GM0363,planet:X,broken"}, {"areas"}),
    ({"measure": "absence_rate", "areas": "municipality:GM9999,municipality:GM0363,province:X"},
     {"areas"}),
    ({"measure": "absence_rate", "level": "galaxy"}, {"level"}),
])
def test_invalid_requests_are_400_problems_listing_each_problem(client, params, fields):
    r = client.get("/v1/compare", params=params)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert {e["field"] for e in body["errors"]} >= fields
    assert "GM9999" not in r.text   # names positions, never echoes values


@pytest.mark.parametrize("params, fields", [
    # well-formed, but the register has no GM9999 (issue 25: 404 on every route)
    ({"measure": "absence_rate", "areas": "municipality:GM9999,municipality:GM0363"}, {"areas[0]"}),
    # well-formed, but the release has no such cells
    ({"measure": "absence_rate", "areas": "school:00AA00,municipality:GM0363"}, {"areas[0]"}),
])
def test_well_formed_requests_for_what_does_not_exist_are_404(client, params, fields):
    r = client.get("/v1/compare", params=params)
    assert r.status_code == 404, r.text
    assert {e["field"] for e in r.json()["errors"]} == fields
    assert "GM9999" not in r.text


def test_without_areas_or_level_every_province_is_compared_and_areas_win_over_level(client):
    default = client.get("/v1/compare", params={"measure": "absence_rate"})
    assert default.status_code == 200, default.text
    assert {a["level"] for a in default.json()["areas"]} == {"province"}
    both = client.get("/v1/compare", params={"measure": "absence_rate", "level": "rmc",
                                             "areas": "municipality:GM0363,municipality:GM0599"})
    assert both.status_code == 200
    assert [a["code"] for a in both.json()["areas"]] == ["GM0363", "GM0599"]


def test_comparing_is_public_and_spends_nothing(client, db):
    con = connect(db[0].db)
    before = con.execute("SELECT count(*) FROM release").fetchone()
    ledger = con.execute("SELECT * FROM budget_cap ORDER BY ALL").fetchall()
    con.close()
    assert client.get("/v1/compare", params={"measure": "absence_rate", "level": "rmc"}).status_code == 200
    options = client.get("/v1/compare/options").json()
    assert options["levels"]["municipality"]["map"] and not options["levels"]["swv"]["map"]
    assert options["levels"]["country"]["sectors"] == ["all", "PO", "VO"]
    con = connect(db[0].db)
    assert con.execute("SELECT count(*) FROM release").fetchone() == before
    assert con.execute("SELECT * FROM budget_cap ORDER BY ALL").fetchall() == ledger
    con.close()


def test_no_release_is_a_404_problem(tmp_path):
    from service.settings import Settings
    with TestClient(create_app(Settings(mode="dev", db=tmp_path / "empty.duckdb"))) as c:
        r = c.get("/v1/compare", params={"measure": "absence_rate", "level": "province"})
    assert r.status_code == 404 and r.json()["type"].endswith("not-found")


@pytest.mark.statistical
def test_difference_interval_covers_the_truth_after_reconciliation():
    """Known truth, reconciled noisy measurements at school, municipality, province and
    country (the standard release's estimator): with the GLS covariance, the 95% intervals of
    differences between sibling municipalities, municipalities of different provinces, and a
    municipality and its province cover the true difference 95% of the time. Without it the
    siblings (negatively correlated) are covered less often and the nested pairs (positively
    correlated) more. The noise here is ours (numpy, fixed seed): this checks the formula."""
    rng = np.random.default_rng(20250)
    n_prov, per_prov, per_muni = 3, 8, 5
    n_muni = n_prov * per_prov
    leaves = n_muni * per_muni
    muni_of = np.repeat(np.arange(n_muni), per_muni)
    prov_of_muni = np.repeat(np.arange(n_prov), per_prov)
    levels = [Level("municipality", muni_of, n_muni), Level("province", prov_of_muni[muni_of], n_prov),
              Level("country", np.zeros(leaves, dtype=int), 1)]
    truth = rng.integers(20, 400, leaves).astype(float)
    true_m = np.bincount(muni_of, truth, n_muni)
    true_p = np.bincount(prov_of_muni, true_m, n_prov)
    pairs = {"sibling": [(0, 1), (9, 10)], "across": [(2, 12), (5, 20)]}
    hits = {"sibling": [], "across": [], "nested": []}
    naive = {"sibling": [], "nested": []}
    draws = 1000
    for _ in range(draws):
        ms = [Measured(None, truth + rng.normal(0, 25, leaves), 625.0)]
        for level, true in zip(levels, (true_m, true_p, np.array([truth.sum()]))):
            ms.append(Measured(level, true + rng.normal(0, 25, level.n_groups), 625.0))
        rec = reconcile(leaves, ms)
        m_est, p_est = rec.levels["municipality"].estimate, rec.levels["province"].estimate
        cov_m = rec.covariance(rec.indicator("municipality"))
        for kind, items in pairs.items():
            for a, b in items:
                _, _, lo, hi = difference(m_est[a], m_est[b], cov_m[a, a], cov_m[b, b], cov_m[a, b])
                hits[kind].append(lo <= true_m[a] - true_m[b] <= hi)
                if kind == "sibling":
                    _, _, lo, hi = difference(m_est[a], m_est[b], cov_m[a, a], cov_m[b, b], 0.0)
                    naive["sibling"].append(lo <= true_m[a] - true_m[b] <= hi)
        for a in (3, 11, 19):
            p = prov_of_muni[a]
            sel = np.hstack([rec.indicator("municipality", [a]).toarray(),
                             rec.indicator("province", [p]).toarray()])
            c = rec.covariance(sel)
            _, _, lo, hi = difference(m_est[a], p_est[p], c[0, 0], c[1, 1], c[0, 1])
            hits["nested"].append(lo <= true_m[a] - true_p[p] <= hi)
            _, _, lo, hi = difference(m_est[a], p_est[p], c[0, 0], c[1, 1], 0.0)
            naive["nested"].append(lo <= true_m[a] - true_p[p] <= hi)
    # 2,000–3,000 pairs each: 95% ± 5.3 binomial sd (failure probability < 1e-6)
    for kind, got in hits.items():
        tol = 5.3 * np.sqrt(0.95 * 0.05 / len(got))
        assert abs(np.mean(got) - 0.95) <= tol, (kind, np.mean(got))
    assert np.mean(naive["sibling"]) < np.mean(hits["sibling"])
    assert np.mean(naive["nested"]) > np.mean(hits["nested"])


def test_wording_in_dutch_and_english():
    text = compare.difference_text("A", "B", -30, -40, -20, "pupils", True)
    assert text["nl"].startswith("A heeft 30 leerlingen minder dan B (95% zeker tussen −40 en −20")
    assert text["en"].startswith("A has 30 fewer pupils than B (95% sure between −40 and −20")
    assert compare.interval_text(0.0612, 0.0745, "rate") == {
        "nl": "95% zeker tussen 6,1% en 7,5%", "en": "95% sure between 6.1% and 7.5%"}


def test_compare_takes_the_released_cells_as_a_frame(db):
    """A notebook holding `release.cells(...)` gets the same comparison as the API."""
    from service.releases import stored as release
    con = connect(db[0].db)
    frame = release.cells(release.get_release(con, db[1]))
    loaded, structure = compare.load_release(con), compare.register_structure(con)
    con.close()
    asked = [("municipality", "GM0363"), ("municipality", "GM0599")]
    from_frame = compare.compare(frame, "absence_rate", areas=asked, structure=structure)
    from_release = compare.compare(loaded, "absence_rate", areas=asked, structure=structure)
    assert from_frame["areas"] == from_release["areas"]
    assert from_frame["differences"] == from_release["differences"]
    assert from_frame["differences"][0]["distinguishable"] is False
    assert compare.options(loaded)["levels"]["municipality"] == {"sectors": ["all"], "areas": 342}
