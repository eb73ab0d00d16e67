"""Charts (Altair → PNG with vl-convert) and the self-contained HTML report.

The HTML embeds every chart as a base64 PNG and loads nothing from the network; the figures
are also written as CSV (one per table) and one JSON file (`figures.json`).
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import altair as alt
import pandas as pd

from service.evaluation.report import DEFAULT_RHO, Evaluation

TABLES = ("hidden", "errors", "bias", "topk", "attacks", "membership", "example")


def hidden_chart(ev: Evaluation) -> alt.Chart:
    data = ev.hidden[ev.hidden["group"].isin(["all schools", *ev.hidden["level"].unique()])]
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("level:N", sort=["school", "municipality", "swv", "rmc", "province", "country"]),
        y=alt.Y("share_pupils_hidden:Q", title="share of pupils in hidden cells",
                axis=alt.Axis(format="%")),
        xOffset="measure:N", color="measure:N",
        tooltip=["measure", "level", "hidden_cells", "share_cells_hidden", "share_pupils_hidden"],
    ).properties(title="Suppression: pupils hidden per level (DP: none)", width=420, height=240)


def error_chart(ev: Evaluation) -> alt.Chart:
    e = ev.errors[(ev.errors["level"] == "school") & (ev.errors["size"] != "0")]
    dp = e.assign(method="DP ρ=" + e["rho"].astype(str), error=e["dp_mean_abs_error"])
    sup = e[e["rho"] == DEFAULT_RHO].assign(method="suppression (hidden read as 0)",
                                            error=e["suppression_mean_abs_error"])
    data = pd.concat([dp, sup])[["measure", "size", "method", "error"]]
    return alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("size:O", title="pupils in the school", sort=["1-4", "5-19", "20-99", "100-499", "500+"]),
        y=alt.Y("error:Q", title="mean absolute error (pupils)"),
        color="method:N", column=alt.Column("measure:N"),
    ).properties(title="Error per school cell by group size", width=160, height=200)


def example_chart(ev: Evaluation) -> alt.Chart:
    ex = ev.example.assign(suppression=ev.example["suppressed"].fillna(-1))
    base = alt.Chart(ex).encode(y=alt.Y("school:N", title=None))
    truth = base.mark_tick(color="black", thickness=2).encode(x=alt.X("truth:Q", title="chronic absence (pupils)"))
    dp = base.mark_rule(color="#1f77b4").encode(x="lower:Q", x2="upper:Q")
    dot = base.mark_point(color="#1f77b4", filled=True).encode(x="estimate:Q")
    hid = base.mark_text(text="hidden", align="left", dx=4, color="#d62728").encode(
        x=alt.value(0)).transform_filter("datum.hidden")
    return (truth + dp + dot + hid).properties(
        title=f"{ev.example_area}: DP estimate and 95% interval (blue), truth (black); "
              "suppression shows nothing where red", width=420)


class ChartsNotInstalled(RuntimeError):
    """PNG export needs the `charts` extra, which the server's install leaves out."""

    def __init__(self) -> None:
        super().__init__("the evaluation report draws its charts with vl-convert-python, which "
                         "the server's install leaves out. Fix: pip install 'aanwezig[charts]'")


def require_charts():
    """The vl_convert module, or `ChartsNotInstalled` saying which extra to install."""
    try:
        import vl_convert
    except ImportError as exc:
        raise ChartsNotInstalled() from exc
    return vl_convert


def png(chart: alt.Chart) -> bytes:
    return require_charts().vegalite_to_png(chart.to_json(), scale=1.5)


def _table_html(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, float_format=lambda v: f"{v:.3f}", border=0)


def write_report(ev: Evaluation, out: Path, command: str = "") -> dict[str, Path]:
    """Write report.html, the PNGs, one CSV per table and figures.json into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name in TABLES:
        paths[name] = out / f"{name}.csv"
        getattr(ev, name).to_csv(paths[name], index=False)
    paths["json"] = out / "figures.json"
    paths["json"].write_text(json.dumps(
        {"school_year": ev.school_year, "headline": ev.headline, "example_area": ev.example_area,
         **{n: json.loads(getattr(ev, n).to_json(orient="records")) for n in TABLES}},
        indent=1, default=str))
    images = {}
    for name, chart in (("hidden_by_level", hidden_chart(ev)), ("error_by_size", error_chart(ev)),
                        ("swv_example", example_chart(ev))):
        data = png(chart)
        paths[name] = out / f"{name}.png"
        paths[name].write_bytes(data)
        images[name] = base64.b64encode(data).decode("ascii")
    sections = [
        ("Headline", f"<pre>{html.escape(json.dumps(ev.headline, indent=1))}</pre>"),
        ("Hidden by suppression", f'<img alt="hidden share by level" src="data:image/png;base64,{images["hidden_by_level"]}">'
         + _table_html(ev.hidden)),
        ("Differencing attack", _table_html(ev.attacks)),
        ("Membership test", _table_html(ev.membership)),
        ("Error by group size", f'<img alt="error by size" src="data:image/png;base64,{images["error_by_size"]}">'
         + _table_html(ev.errors)),
        ("Bias of summed totals", _table_html(ev.bias)),
        ("Top-10 recall (worst chronic share)", _table_html(ev.topk)),
        (f"One samenwerkingsverband ({html.escape(ev.example_area)})",
         f'<img alt="example" src="data:image/png;base64,{images["swv_example"]}">' + _table_html(ev.example)),
    ]
    body = "".join(f"<h2>{t}</h2>{c}" for t, c in sections)
    paths["html"] = out / "report.html"
    paths["html"].write_text(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>Aanwezig: noise versus the fewer-than-five rule</title><style>"
        "body{font-family:sans-serif;max-width:1100px;margin:auto}table{font-size:12px;border-collapse:collapse}"
        "td,th{padding:2px 6px;border-bottom:1px solid #ddd}img{max-width:100%}</style></head><body>"
        f"<h1>Noise versus the fewer-than-five rule — synthetic data, school year {html.escape(ev.school_year)}</h1>"
        f"<p>Command: <code>{html.escape(command)}</code>. See docs/evaluation.md for the methods.</p>"
        f"{body}</body></html>")
    return paths
