"""Absence records for synthetic enrolment segments (test data; numpy RNG allowed here).

A *segment* is one pupil's enrolment at one school: a range ``[lo, hi)`` of school-day
indices of the school's holiday region. Per segment this draws, vectorised over all segments
of a chunk (the model and its parameters are in docs/synthetic-data.md):

* whole-day episodes: Poisson count with density ``-ln(1 - rate)`` (so that randomly placed
  episodes cover a share ``rate`` of the days), geometric lengths (mean 2.2 days), a reason per
  episode (unauthorised with the pupil's truancy share, else sick / authorised / suspended);
  runs longer than 14 days are broken by a day present, except for
* long-term absentees: one unbroken block of 20–90 school days (sick or unauthorised);
* part-day rows: late (0.25–1 h) and appointments / half-day sick (1 h up to half a day),
  on days without a whole-day absence.

:func:`plant_rise` (opt-in, for evidence of the weekly early warning only) adds a local rise
on top: extra whole-day absences and extra long-term absentees from a given school day on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

REASONS = np.array(["sick", "authorised", "unauthorised", "late", "suspended"])
SICK, AUTHORISED, UNAUTHORISED, LATE, SUSPENDED = range(5)
EPISODE_P = 0.45  # geometric episode length, mean 1 / 0.45 ≈ 2.2 school days
MAX_RUN = 14  # ordinary absence runs are broken after 14 school days
LATE_HOURS = np.array([0.25, 0.5, 0.75, 1.0])


@dataclass(frozen=True)
class Segments:
    """Per-segment inputs (all arrays of the same length)."""

    lo: np.ndarray  # first school-day index (0-based, in the region's calendar)
    hi: np.ndarray  # one past the last
    day_hours: np.ndarray  # 5.0 or 6.0
    rate: np.ndarray  # target share of whole days absent
    truancy: np.ndarray  # share of episodes that are unauthorised
    long_term: np.ndarray  # bool: one unbroken long block
    late_rate: np.ndarray  # expected late arrivals per 190 school days


@dataclass(frozen=True)
class AbsenceRows:
    seg: np.ndarray  # int64 segment index
    day: np.ndarray  # int32 school-day index
    hours: np.ndarray  # float64
    reason: np.ndarray  # int8 index into REASONS


def _expand(seg: np.ndarray, start: np.ndarray, length: np.ndarray):
    """Days covered by episodes: (episode index, day) for every day of every episode."""
    total = int(length.sum())
    ep = np.repeat(np.arange(len(start)), length)
    offset = np.arange(total) - np.repeat(np.cumsum(length) - length, length)
    return ep, start[ep] + offset


def _whole_days(s: Segments, rng: np.random.Generator):
    n_days = s.hi - s.lo
    density = -np.log1p(-np.minimum(s.rate, 0.95))
    count = rng.poisson(density * n_days * EPISODE_P)
    seg = np.repeat(np.arange(len(n_days)), count)
    start = s.lo[seg] + np.floor(rng.random(len(seg)) * n_days[seg]).astype(np.int64)
    length = rng.geometric(EPISODE_P, size=len(seg))
    u = rng.random(len(seg))
    reason = np.where(u < s.truancy[seg], UNAUTHORISED,
                      np.where(rng.random(len(seg)) < 0.80, SICK,
                               np.where(rng.random(len(seg)) < 0.97, AUTHORISED, SUSPENDED)))
    # long-term absentees: one block of 20-90 school days, placed first so it wins collisions
    lt = np.flatnonzero(s.long_term & (n_days >= 25))
    block = np.minimum(20 + rng.geometric(1 / 25, size=len(lt)) - 1, 90)
    block = np.minimum(block, n_days[lt])
    b_start = s.lo[lt] + np.floor(rng.random(len(lt)) * (n_days[lt] - block + 1)).astype(np.int64)
    b_reason = np.where(rng.random(len(lt)) < 0.5, UNAUTHORISED, SICK)
    seg = np.concatenate([lt, seg])
    start = np.concatenate([b_start, start])
    length = np.concatenate([block, length])
    reason = np.concatenate([b_reason, reason])
    protected = np.concatenate([np.ones(len(lt), bool), np.zeros(len(start) - len(lt), bool)])
    ep, day = _expand(seg, start, length)
    keep = day < s.hi[seg[ep]]
    ep, day = ep[keep], day[keep]
    key = seg[ep].astype(np.int64) * 1024 + day
    key, first = np.unique(key, return_index=True)  # sorted by (segment, day); first episode wins
    ep = ep[first]
    # break ordinary runs longer than MAX_RUN days (a day present), unless protected
    new_run = np.ones(len(key), bool)
    new_run[1:] = np.diff(key) != 1
    run_id = np.cumsum(new_run) - 1
    run_start = np.flatnonzero(new_run)
    pos = np.arange(len(key)) - run_start[run_id]
    drop = (pos % (MAX_RUN + 1) == MAX_RUN) & ~protected[ep]
    key, ep = key[~drop], ep[~drop]
    return key, reason[ep]


def _part_days(s: Segments, rng: np.random.Generator):
    n_days = s.hi - s.lo
    scale = n_days / 190.0
    n_late = rng.poisson(s.late_rate * scale)
    n_appt = rng.poisson(1.5 * scale)
    seg = np.concatenate([np.repeat(np.arange(len(n_days)), n_late),
                          np.repeat(np.arange(len(n_days)), n_appt)])
    is_late = np.arange(len(seg)) < int(n_late.sum())
    day = s.lo[seg] + np.floor(rng.random(len(seg)) * n_days[seg]).astype(np.int64)
    half = s.day_hours[seg] / 2
    appt_hours = 1.0 + np.floor(rng.random(len(seg)) * (2 * half - 1)) / 2  # 1 … half a day
    hours = np.where(is_late, LATE_HOURS[rng.integers(0, 4, len(seg))], appt_hours)
    reason = np.where(is_late, LATE, np.where(rng.random(len(seg)) < 0.6, AUTHORISED, SICK))
    key = seg.astype(np.int64) * 1024 + day
    key, first = np.unique(key, return_index=True)
    return key, hours[first], reason[first]


def absences(s: Segments, rng: np.random.Generator) -> AbsenceRows:
    """All absence rows of the segments, sorted by (segment, day)."""
    w_key, w_reason = _whole_days(s, rng)
    p_key, p_hours, p_reason = _part_days(s, rng)
    keep = ~np.isin(p_key, w_key, assume_unique=True)
    key = np.concatenate([w_key, p_key[keep]])
    seg_of_w = w_key // 1024
    hours = np.concatenate([s.day_hours[seg_of_w], p_hours[keep]])
    reason = np.concatenate([w_reason, p_reason[keep]]).astype(np.int8)
    order = np.argsort(key, kind="stable")
    key = key[order]
    return AbsenceRows(seg=key // 1024, day=(key % 1024).astype(np.int32),
                       hours=hours[order], reason=reason[order])


def plant_rise(rows: AbsenceRows, s: Segments, start: np.ndarray, extra_rate: float,
               extra_long_term: float, rng: np.random.Generator) -> AbsenceRows:
    """A planted local rise (opt-in, evidence only): from school day ``start[i]`` of segment
    ``i`` (``start >= hi``: no rise) each further day is a whole-day absence (sick) with
    probability ``extra_rate``, and with probability ``extra_long_term`` the segment gets one
    extra unbroken long-term block (20 + Geometric(1/25) − 1 school days, at most 90,
    starting within 40 school days of ``start``). A planted day replaces a part-day row of
    that day; a day already absent whole stays as it was. Uses its own ``rng``."""
    first = np.maximum(start, s.lo)
    n = np.maximum(s.hi - first, 0)
    seg = np.repeat(np.arange(len(n)), n)
    day = first[seg] + (np.arange(len(seg)) - np.repeat(np.cumsum(n) - n, n))
    hit = rng.random(len(seg)) < extra_rate
    seg, day = seg[hit], day[hit]
    lt = np.flatnonzero((rng.random(len(n)) < extra_long_term) & (n >= 25))
    block = np.minimum(20 + rng.geometric(1 / 25, size=len(lt)) - 1, 90)
    b_start = first[lt] + np.floor(rng.random(len(lt)) * np.minimum(40, n[lt] - 20)).astype(np.int64)
    block = np.minimum(block, s.hi[lt] - b_start)
    b_reason = np.where(rng.random(len(lt)) < 0.5, UNAUTHORISED, SICK)
    ep, b_day = _expand(lt, b_start, block)
    new_key = np.concatenate([lt[ep].astype(np.int64) * 1024 + b_day, seg.astype(np.int64) * 1024 + day])
    new_reason = np.concatenate([b_reason[ep], np.full(len(seg), SICK)])
    new_key, first_hit = np.unique(new_key, return_index=True)  # a block wins over a single day
    new_reason = new_reason[first_hit]
    key = rows.seg * 1024 + rows.day
    whole = rows.hours >= s.day_hours[rows.seg]
    keep = whole | ~np.isin(key, new_key)  # part-day rows on a planted day give way
    add = ~np.isin(new_key, key[whole])
    all_key = np.concatenate([key[keep], new_key[add]])
    hours = np.concatenate([rows.hours[keep], s.day_hours[new_key[add] // 1024]])
    reason = np.concatenate([rows.reason[keep], new_reason[add].astype(np.int8)])
    order = np.argsort(all_key, kind="stable")
    all_key = all_key[order]
    return AbsenceRows(seg=all_key // 1024, day=(all_key % 1024).astype(np.int32),
                       hours=hours[order], reason=reason[order])
