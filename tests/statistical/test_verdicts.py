"""Verdicts agree with the intervals shown (issue 12): walking every area × measure × level
of a published standard release (each area against the Netherlands, as the page shows them)
and the pairs of a compare answer, no verdict says "higher" or "lower" while the area's shown
interval contains the other value whose sd is at most a fifth of the area's. A pair of chosen
areas is decided on its own, so there "within the noise" also never sits beside an interval
that excludes the other value; every area of a level against the Netherlands is decided with
the false discovery rate controlled (issue 23), so there "within the noise" may sit beside an
interval that excludes it taken alone (`excludes_alone`)."""

from __future__ import annotations

import pytest

from privacy.statistics import KNOWN_RATIO
from service.compare import comparison as compare
from service.releases.catalogue import MEASURES
from service.releases.standard import publish_standard

YEAR = "2025-2026"


@pytest.fixture(scope="module")
def released(synthetic_nl):
    con, settings = synthetic_nl
    publish_standard(con, settings, YEAR)
    return compare.load_release(con, YEAR), compare.register_structure(con)


def contradictions(a: dict, b: dict, verdict: dict) -> list[str]:
    """The issue's check for one verdict of a against b."""
    if verdict is None or verdict["distinguishable"] is None:
        return []
    out = []
    for x, y, sign in ((a, b, 1), (b, a, -1)):
        if y["sd"] <= KNOWN_RATIO * x["sd"]:
            contains = x["lower"] <= y["estimate"] <= x["upper"]
            fdr = verdict.get("decision") == "fdr_bh"
            if contains == verdict["distinguishable"] and not (fdr and not contains):
                out.append(f"{x['level']}:{x['code']} [{x['lower']}, {x['upper']}] vs "
                           f"{y['estimate']}: distinguishable={verdict['distinguishable']}")
            if verdict["distinguishable"] and (verdict["difference"] * sign > 0) != (x["estimate"] > y["estimate"]):
                out.append(f"{x['code']}: the verdict's direction disagrees with the estimates")
    return out


@pytest.mark.slow
def test_no_verdict_against_the_netherlands_contradicts_the_intervals_shown(released):
    rel, structure = released
    bad, checked, decided = [], 0, 0
    for measure, m in MEASURES.items():
        if m.unit == "pupils":
            continue   # counts are not compared with the national total
        for level in ("province", "rmc", "swv", "municipality", "school"):
            answer = compare.compare(rel, measure, level=level, structure=structure)
            for area in answer["areas"]:
                v = area["vs_national"]
                bad += contradictions(area, answer["national"], v)
                checked += 1
                decided += int(bool(v["distinguishable"]))
    assert checked > 10 * 8_000 and decided > 0
    assert not bad, bad[:10]


def test_no_pair_of_a_compare_answer_contradicts_its_intervals(released):
    rel, structure = released
    areas = [("country", "NL"), ("province", "PV27"), ("province", "PV20"), ("rmc", "MC21"),
             ("municipality", "GM0363"), ("municipality", "GM0014"), ("municipality", "GM0599"),
             ("swv", "PO2701")]
    bad, pairs = [], 0
    for measure in ("absence_rate", "chronic_share", "enrolled", "attendance_rate"):
        answer = compare.compare(rel, measure, areas=areas, structure=structure)
        by_key = {f"{a['level']}:{a['code']}": a for a in answer["areas"]}
        for d in answer["differences"]:
            bad += contradictions(by_key[d["a"]], by_key[d["b"]], d)
            pairs += 1
        for area in answer["areas"]:
            bad += contradictions(area, answer["national"], area["vs_national"])
    assert pairs == 4 * 28
    assert not bad, bad[:10]
