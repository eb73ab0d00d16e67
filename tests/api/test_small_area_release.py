"""The schools' model estimates in the published standard release (issue 26): present for the
chronic and severe absence shares of every school and nowhere else, each interval holding its
estimate inside [0, 1], and computable from what is published alone — recomputed from the
stored payload and the public register structure they come out the same (post-processing: no
budget, no data read)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from privacy.budget import Rho
from service.releases.small_area import MODEL_COLUMNS, MODEL_MEASURES, model_columns
from service.releases.standard import publish_standard, release_model
from service.releases.stored import cells as stored_cells

YEAR = "2025-2026"


@pytest.fixture(scope="module")
def published(synthetic_nl):
    con, settings = synthetic_nl
    stored = publish_standard(con, settings, YEAR)
    return con, stored.record, stored_cells(stored.record)


def test_model_columns_are_filled_for_the_schools_shares_only(published):
    _, record, frame = published
    assert json.loads(record.spec_json)["revision"] == 5
    modelled = frame["measure"].isin(MODEL_MEASURES) & (frame["level"] == "school")
    assert modelled.sum() > 0
    values = frame.loc[modelled, list(MODEL_COLUMNS)].astype(float)
    assert values.notna().all().all()            # every school, with or without a direct one
    assert ((values["model_lower"] <= values["model_estimate"])
            & (values["model_estimate"] <= values["model_upper"])).all()
    assert values.min().min() >= 0.0 and values.max().max() <= 1.0
    assert frame.loc[~modelled, list(MODEL_COLUMNS)].isna().all().all()
    # narrower than the direct interval where there is one (the point of borrowing strength)
    direct = frame.loc[modelled, ["lower", "upper"]].astype(float)
    has = direct.notna().all(axis=1)
    assert ((values["model_upper"] - values["model_lower"])[has]
            <= (direct["upper"] - direct["lower"])[has] + 1e-6).mean() > 0.9


def test_the_model_reads_only_what_is_published(published):
    con, record, frame = published
    spec = json.loads(record.spec_json)
    public = release_model(con, YEAR, Rho.of(spec["rho"]), spec)
    again = model_columns(frame.drop(columns=list(MODEL_COLUMNS)), public.areas)
    for col in MODEL_COLUMNS:
        a = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        b = pd.to_numeric(again[col], errors="coerce").to_numpy(dtype=float)
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_allclose(a[~np.isnan(a)], b[~np.isnan(b)], atol=1e-6)


def test_compare_at_school_level_carries_the_model_estimate_beside_the_direct_one(published):
    from service.compare.comparison import compare, load_release
    from service.compare.download import areas_frame

    con, record, frame = published
    result = compare(load_release(con, YEAR), "chronic_share", level="school")
    areas = result["areas"]
    assert len(areas) > 100
    with_model = [a for a in areas if a.get("model_estimate") is not None]
    assert len(with_model) == len(areas)
    assert all(a["model_lower"] <= a["model_estimate"] <= a["model_upper"] for a in with_model)
    # the verdict is the direct estimate's: the same call with the model columns removed
    plain = compare(frame.drop(columns=list(MODEL_COLUMNS)), "chronic_share", level="school")
    assert [a.get("verdict") for a in plain["areas"]] == [a.get("verdict") for a in areas]
    csv = areas_frame(result)
    assert {"model_estimate", "model_lower", "model_upper"} <= set(csv.columns)
    assert csv["model_estimate"].notna().sum() == len(areas)
