"""The weekly series as a line with a 95% band: the spec from the API, and the page's
'Wekelijks signaal' section rendering it in headless Chromium with no console errors."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.api.app import create_app

YEAR = "2025-2026"


def test_chart_spec_has_a_band_and_a_line_with_one_point_per_week(synthetic_weeks):
    con, settings = synthetic_weeks
    with TestClient(create_app(settings)) as client:
        r = client.get(f"/v1/weekly/{YEAR}/chart", params={"measure": "attendance_rate_4wk",
                                                            "level": "country", "area": "NL"})
        assert r.status_code == 200
        spec = r.json()
        names = [layer.get("name") for layer in spec["layer"]]
        assert names == ["series_band", "series_line"]
        values = spec["data"]["values"] if "data" in spec else spec["datasets"][next(iter(spec["datasets"]))]
        assert [v["week"] for v in values] == [1, 2, 3]
        assert all(v["lower"] <= v["upper"] for v in values)
        # the y axis fits the data: not forced to include 0 (a 94% series on a 0–100% axis
        # is a flat line)
        band = spec["layer"][0]["encoding"]["y"]
        assert band["scale"]["zero"] is False
        bad = client.get(f"/v1/weekly/{YEAR}/chart", params={"measure": "pupil_key",
                                                              "level": "country", "area": "NL"})
        assert bad.status_code == 400
        assert client.get(f"/v1/weekly/{YEAR}/chart", params={
            "measure": "attendance_rate_4wk", "level": "municipality", "area": "GM9999"}).status_code == 404
