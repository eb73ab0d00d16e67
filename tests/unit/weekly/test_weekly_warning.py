"""The long-term-absence warning, the node sums it reads, the ratio intervals of the weekly
series, and the synthetic generator's opt-in planted rise.

Randomness here is ours (numpy, fixed seeds): every check is deterministic."""

from __future__ import annotations

import filecmp

import numpy as np
import pandas as pd
import pytest

from service.register.synthetic import build_register
from service.synth.uploads import PlantedRise, write_synthetic
from service.weekly.warnings import LongTermRule, detect_long_term, range_sums

NODE_SD = 16.0  # the service's node sd for new_long_term at swv level (ρ = 0.2 pool), pupils


def tree_nodes(weeks: int, height: int) -> list[tuple[int, int]]:
    return [(k * 2**h + 1, (k + 1) * 2**h) for h in range(height + 1) for k in range(weeks // 2**h)]


def released_nodes(counts: np.ndarray, rng, sd: float = NODE_SD, height: int = 4,
                   country_sd: float | None = None) -> pd.DataFrame:
    """Noisy tree nodes of `counts` (areas × weeks; the last row is the country), as released."""
    areas, weeks = counts.shape
    rows = []
    for a in range(areas):
        level, code = ("country", "NL") if a == areas - 1 else ("swv", f"S{a:03d}")
        s = country_sd if (a == areas - 1 and country_sd is not None) else sd
        for start, end in tree_nodes(weeks, height):
            rows.append((level, code, code, start, end, float(counts[a, start - 1:end].sum() + rng.normal(0, s)), s))
    return pd.DataFrame(rows, columns=["level", "area_code", "area_name", "start", "end", "estimate", "sd"])


def onsets(rng, areas: int, weeks: int, rate: float = 1.0, rise: float = 0.0, from_week: int = 12):
    """New long-term absentees per area × week (Poisson), the last row the country's sum."""
    lam = np.full((areas, weeks), rate)
    lam[:, :3] = 0  # nobody completes four absent weeks before week 4
    lam[0, from_week - 1:] += rise
    counts = rng.poisson(lam)
    return np.vstack([counts, counts.sum(axis=0)])


def test_range_sums_use_the_released_tree_nodes():
    rng = np.random.default_rng(1)
    counts = onsets(rng, 3, 40)
    nodes = released_nodes(counts, rng, sd=0.0)
    for first, last in ((1, 40), (4, 31), (33, 40), (17, 24), (5, 5)):
        out = range_sums(nodes, first, last).set_index("area_code")
        assert np.allclose(out.loc["S001", "estimate"], counts[1, first - 1:last].sum())
    # [33, 40] is one node of height 3; [17, 24] one of height 3; [1, 40] = 16 + 16 + 8
    assert range_sums(nodes, 33, 40)["nodes"].iloc[0] == 1
    assert range_sums(nodes, 1, 40)["nodes"].iloc[0] == 3
    assert range_sums(nodes[nodes["end"] <= 30], 1, 31) is None  # week 31 not released yet


def test_long_term_warning_fires_on_a_planted_rise_and_explains_itself():
    rng = np.random.default_rng(21)
    counts = onsets(rng, 60, 40, rate=1.0, rise=15.0, from_week=14)
    nodes = released_nodes(counts, rng, country_sd=NODE_SD)
    fired = [w for w in range(17, 41)
             if detect_long_term(nodes, w).query("area_code == 'S000'")["flagged"].iloc[0]]
    assert fired and fired[0] <= 20, fired
    row = detect_long_term(nodes, fired[0]).iloc[0]
    assert row.area_code == "S000" and row.signal == "new_long_term"
    assert "baseline" in row.reason and "national factor" in row.reason and "z =" in row.reason
    # before week 4 + 6 baseline weeks + the 8-week window there is nothing to say
    assert detect_long_term(nodes, 16).empty


@pytest.mark.statistical
def test_long_term_warning_false_flag_rate_without_a_rise_stays_near_its_level():
    rng = np.random.default_rng(22)
    rule = LongTermRule()
    flags = tests = 0
    for rate in (0.05, 0.5, 5.0):  # swv-like (noise dominates) to province-like (Poisson matters)
        for _ in range(2):
            nodes = released_nodes(onsets(rng, 100, 40, rate=rate), rng, country_sd=NODE_SD)
            for w in range(17, 41, 2):
                out = detect_long_term(nodes, w, rule)
                out = out[out.level != "country"]
                flags += int(out["flagged"].sum())
                tests += len(out)
    assert tests == 3 * 2 * 100 * 12
    # nominal 0.001 per area-week (normal tail); overlapping windows cluster flags: allow 3x
    assert flags / tests <= 3 * rule.alpha, flags / tests


def test_long_term_warning_with_the_national_season():
    """A national wave (every area up 3x for some weeks) is not a local signal."""
    rng = np.random.default_rng(23)
    areas, weeks = 80, 40
    lam = np.full((areas, weeks), 2.0)
    lam[:, :3] = 0
    lam[:, 20:28] *= 3
    counts = rng.poisson(lam)
    nodes = released_nodes(np.vstack([counts, counts.sum(axis=0)]), rng, country_sd=NODE_SD)
    flagged = sum(int(detect_long_term(nodes, w).query("level != 'country'")["flagged"].sum())
                  for w in range(20, 36))
    assert flagged <= 2
    no_factor = detect_long_term(nodes[nodes.level != "country"], 28)
    assert (no_factor["national_factor"] == 1.0).all()


# ── the opt-in planted rise of the synthetic generator ───────────────────────────────────
def test_planted_rise_changes_only_the_planted_area_after_its_week(tmp_path):
    base = tmp_path / "base"
    write_synthetic(base, pupils=4_000, seed=11, schools="sample")
    planted = tmp_path / "planted"
    write_synthetic(planted, pupils=4_000, seed=11, schools="sample", planted_rise=PlantedRise("VO2802", 8, 0.3, 0.05))
    swv = build_register().schools.set_index("school_id")["swv_code"]
    changed = []
    for f in sorted(base.rglob("*.csv")):
        if not filecmp.cmp(f, planted / f.relative_to(base), shallow=False):
            changed.append(f.relative_to(base))
    assert changed and all(p.name == "absences.csv" and swv[p.parent.name] == "VO2802" for p in changed)
    school = changed[0].parent
    before = pd.read_csv(base / school / "absences.csv")
    after = pd.read_csv(planted / school / "absences.csv")
    merged = before.merge(after, how="outer", indicator=True)
    first_new = merged.loc[merged["_merge"] != "both", "date"].min()
    assert first_new >= "2025-10-13"  # school week 8 of every region starts on or after this date
    assert after["hours"].sum() > 1.3 * before["hours"].sum()
    with pytest.raises(ValueError, match="unknown samenwerkingsverband"):
        write_synthetic(tmp_path / "bad", pupils=500, seed=1, planted_rise=("XX9999", 8, 0.1))
