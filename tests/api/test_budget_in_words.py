"""The budget people can read, through real HTTP: `GET /v1/budget` says in decimals and
words what the caller has used and has left this school year, with ε at δ beside ρ and the
position across a school career, while the structured form stays for programs."""

from __future__ import annotations

import re

from support.api_client import absences_csv, enrolments_csv


def test_the_budget_in_words_after_one_query(client, keys):
    files = [("files", ("enrolments.csv", enrolments_csv())),
             ("files", ("absences.csv", absences_csv("5")))]
    assert client.post("/v1/uploads", files=files, headers=keys.header("school")).status_code in (200, 201)
    assert client.app.state.writer.idle()
    h = keys.header("researcher")
    r = client.post("/v1/queries", json={"measure": "enrolled", "group_by": ["sector"],
                                         "budget": {"rho": "0.0101"}}, headers=h)
    assert r.status_code == 201, r.text
    doc = client.get("/v1/budget", headers=h).json()
    words = doc["in_words"]
    assert words[0].startswith("ρ 0.0101 of your 0.05 for 2025-2026 used (ε ")
    assert words[0].endswith("; ρ 0.0399 left.") and "at δ 1e-08" in words[0]
    assert any(w.startswith("Across a school career") for w in words)
    assert doc["summary"] == " ".join(words)
    for text in words:
        assert not re.search(r"\d+/\d+", text)                 # decimals, no fractions
        assert "principal" not in text and "micro" not in text
    assert doc["allowance"]["remaining"]["rho"] == "399/10000"   # the structured form stays
