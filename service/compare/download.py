"""A comparison as CSV (`GET /v1/compare?format=csv` or `Accept: text/csv`): the table on
the page, one row per area with the Netherlands first, or the differences of chosen areas
(`table=differences`). Released values only, like the JSON answer it is built from."""

from __future__ import annotations

import io

import pandas as pd

from service.compare.summary import standing

AREA_COLUMNS = ["release_id", "dataset", "measure", "unit", "sector", "level", "code", "name",
                "pupils", "estimate", "shown", "lower", "upper", "sd", "rank", "rank_lower",
                "rank_upper", "ranked", "unranked_reason", "verdict", "decimals", "model_estimate",
                "model_lower", "model_upper"]
DIFFERENCE_COLUMNS = ["release_id", "dataset", "measure", "unit", "sector", "a", "name_a", "b",
                      "name_b", "difference", "lower", "upper", "sd", "distinguishable", "rule",
                      "decision", "text_nl", "text_en"]


def _verdict(area: dict) -> str:
    """higher / lower / same / not_compared, or no_estimate (the page's words, as keys)."""
    if area.get("estimate") is None:
        return "no_estimate"
    return standing(area)


def areas_frame(comparison: dict) -> pd.DataFrame:
    common = {"release_id": comparison["release_id"], "dataset": comparison["dataset"],
              "measure": comparison["measure"]["name"], "unit": comparison["measure"]["unit"],
              "sector": comparison["sector"]}
    rows = []
    for area in [comparison["national"], *comparison["areas"]]:
        national = area is comparison["national"]
        rows.append({**common, "level": area["level"], "code": area["code"], "name": area["name"],
                     "pupils": area.get("pupils"), "estimate": area["estimate"],
                     "shown": area.get("shown"), "lower": area["lower"], "upper": area["upper"],
                     "sd": area["sd"], "rank": None if national else area.get("rank"),
                     "rank_lower": area.get("rank_lower"), "rank_upper": area.get("rank_upper"),
                     "ranked": None if national else area.get("ranked"),
                     "unranked_reason": None if national else area.get("unranked"),
                     "verdict": "" if national else _verdict(area),
                     "decimals": area.get("decimals", 1),
                     **{col: area.get(col) for col in ("model_estimate", "model_lower", "model_upper")}})
    frame = pd.DataFrame(rows, columns=AREA_COLUMNS)
    for col in ("pupils", "rank", "rank_lower", "rank_upper", "decimals"):
        frame[col] = frame[col].astype("Int64")
    return frame


def differences_frame(comparison: dict) -> pd.DataFrame:
    names = {f"{a['level']}:{a['code']}": a["name"] for a in comparison["areas"]}
    common = {"release_id": comparison["release_id"], "dataset": comparison["dataset"],
              "measure": comparison["measure"]["name"], "unit": comparison["measure"]["unit"],
              "sector": comparison["sector"]}
    rows = [{**common, "a": d["a"], "name_a": names.get(d["a"], d["a"]), "b": d["b"],
             "name_b": names.get(d["b"], d["b"]), "difference": d["difference"],
             "lower": d["lower"], "upper": d["upper"], "sd": d["sd"],
             "distinguishable": d["distinguishable"], "rule": d["rule"],
             "decision": d.get("decision"), "text_nl": d["text"]["nl"], "text_en": d["text"]["en"]}
            for d in comparison["differences"]]
    return pd.DataFrame(rows, columns=DIFFERENCE_COLUMNS)


def comparison_csv(comparison: dict, table: str = "areas") -> str:
    """The comparison's areas (or, `table="differences"`, its pairs) as CSV text."""
    frame = differences_frame(comparison) if table == "differences" else areas_frame(comparison)
    out = io.StringIO()
    frame.to_csv(out, index=False, lineterminator="\n")
    return out.getvalue()


def filename(comparison: dict, table: str = "areas") -> str:
    what = comparison["level"] or "chosen"
    suffix = "-differences" if table == "differences" else ""
    return f"compare-{comparison['measure']['name']}-{what}-{comparison['sector']}{suffix}.csv"
