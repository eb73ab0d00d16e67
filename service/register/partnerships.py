"""Municipality adjacency and synthetic samenwerkingsverbanden (SWVs) for the public register.

Adjacency comes from the real 2025 municipal boundaries (`gemeente_2025.topojson`): two
municipalities are neighbours when their polygons share a TopoJSON arc. The Wadden islands,
Goeree-Overflakkee and Zeeuws-Vlaanderen share no arc with the rest of their province; each
such island component gets one *water link* to the nearest municipality of the same province
(by centroid distance), so every province is one connected graph.

SWVs are grown greedily inside each province from seeds (the largest municipalities, spread
apart), always extending the smallest region by one neighbouring municipality, so regions are
connected and of balanced population; a city larger than the target stays a region on its own.
Everything here is deterministic: it is public register data, not pupil data.
"""

from __future__ import annotations

import json
from collections import defaultdict
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

GEO_PACKAGE = "service.data.geo"


def _geometries() -> tuple[dict, list[dict]]:
    text = resources.files(GEO_PACKAGE).joinpath("gemeente_2025.topojson").read_text("utf-8")
    topo = json.loads(text)
    return topo, topo["objects"]["gemeente_2025"]["geometries"]


def _arc_ids(arcs) -> list[int]:
    """All arc indices in a nested TopoJSON arc list (``~i`` means arc i reversed)."""
    if isinstance(arcs, int):
        return [arcs if arcs >= 0 else ~arcs]
    return [a for sub in arcs for a in _arc_ids(sub)]


def _centroids(topo: dict, geometries: list[dict]) -> dict[str, tuple[float, float]]:
    """Mean of the decoded arc points per municipality (good enough to find the nearest)."""
    scale, translate = topo["transform"]["scale"], topo["transform"]["translate"]
    points = [np.cumsum(np.asarray(arc, dtype=float), axis=0) for arc in topo["arcs"]]
    out = {}
    for geom in geometries:
        pts = np.vstack([points[a] for a in _arc_ids(geom["arcs"])])
        lon = pts[:, 0] * scale[0] + translate[0]
        lat = pts[:, 1] * scale[1] + translate[1]
        # km-ish coordinates so that distances are comparable in both directions
        out[geom["properties"]["statcode"]] = (float(lon.mean()) * 70.0, float(lat.mean()) * 111.0)
    return out


def _components(nodes: set[str], adj: dict[str, set[str]]) -> list[set[str]]:
    seen: set[str] = set()
    comps = []
    for start in sorted(nodes):
        if start in seen:
            continue
        comp, stack = {start}, [start]
        seen.add(start)
        while stack:
            for nb in adj[stack.pop()]:
                if nb in nodes and nb not in seen:
                    seen.add(nb)
                    comp.add(nb)
                    stack.append(nb)
        comps.append(comp)
    return comps


@lru_cache(maxsize=1)
def _adjacency_cached(province_items: tuple[tuple[str, str], ...]) -> tuple:
    topo, geometries = _geometries()
    by_arc: dict[int, set[str]] = defaultdict(set)
    for geom in geometries:
        for arc in _arc_ids(geom["arcs"]):
            by_arc[arc].add(geom["properties"]["statcode"])
    adj: dict[str, set[str]] = defaultdict(set)
    for codes in by_arc.values():
        for a in codes:
            adj[a] |= codes - {a}
    centre = _centroids(topo, geometries)
    province = dict(province_items)
    water_links = []
    for pv in sorted(set(province.values())):
        members = {m for m, p in province.items() if p == pv}
        comps = _components(members, adj)
        while len(comps) > 1:
            comps.sort(key=len)
            small, rest = comps[0], set().union(*comps[1:])
            a, b = min(
                ((x, y) for x in sorted(small) for y in sorted(rest)),
                key=lambda xy: np.hypot(centre[xy[0]][0] - centre[xy[1]][0],
                                        centre[xy[0]][1] - centre[xy[1]][1]),
            )
            adj[a].add(b)
            adj[b].add(a)
            water_links.append((a, b))
            comps = _components(members, adj)
    frozen = tuple((m, tuple(sorted(adj[m]))) for m in sorted(province))
    return frozen, tuple(water_links)


def municipality_adjacency(municipalities: pd.DataFrame) -> dict[str, frozenset[str]]:
    """Neighbours of every municipality: shared boundary arcs plus the few water links."""
    items = tuple(zip(municipalities["municipality_code"], municipalities["province_code"]))
    frozen, _ = _adjacency_cached(tuple(sorted(items)))
    return {m: frozenset(nbs) for m, nbs in frozen}


def water_links(municipalities: pd.DataFrame) -> list[tuple[str, str]]:
    """The links added between island components and their province (documented)."""
    items = tuple(zip(municipalities["municipality_code"], municipalities["province_code"]))
    return list(_adjacency_cached(tuple(sorted(items)))[1])


def _seats(weights: pd.Series, total: int) -> pd.Series:
    """Largest-remainder apportionment of `total` seats, at least one each."""
    quota = weights / weights.sum() * total
    seats = np.maximum(1, np.floor(quota)).astype(int)
    remainder = (quota - seats).sort_values(ascending=False)
    for key in remainder.index[: max(0, total - int(seats.sum()))]:
        seats[key] += 1
    return seats


def _grow(members: list[str], pop: pd.Series, adj, k: int, jitter: np.ndarray) -> dict[str, int]:
    """Partition one province's municipalities into k connected, balanced regions."""
    order = sorted(members, key=lambda m: -pop[m] * jitter[members.index(m)])
    seeds: list[str] = []
    for m in order:  # largest first, not adjacent to an existing seed
        if len(seeds) < k and not any(m in adj[s] for s in seeds):
            seeds.append(m)
    for m in order:
        if len(seeds) < k and m not in seeds:
            seeds.append(m)
    region = {s: i for i, s in enumerate(seeds)}
    size = [float(pop[s]) for s in seeds]
    member_set = set(members)
    while len(region) < len(members):
        frontier = {}
        for r in range(k):
            cands = {nb for m, rr in region.items() if rr == r for nb in adj[m]
                     if nb in member_set and nb not in region}
            if cands:
                frontier[r] = cands
        r = min(frontier, key=lambda x: (size[x], x))
        inside = [m for m, rr in region.items() if rr == r]
        pick = max(sorted(frontier[r]), key=lambda c: sum(c in adj[m] for m in inside))
        region[pick] = r
        size[r] += float(pop[pick])
    return region


def build_swvs(municipalities: pd.DataFrame, population: pd.Series, kind: str, total: int,
               rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, str]]:
    """SWV regions of `kind` ('PO' or 'VO'): areas (code, name) and municipality → SWV code."""
    adj = municipality_adjacency(municipalities)
    by_pv = municipalities.groupby("province_code")["municipality_code"].apply(list)
    pv_pop = by_pv.apply(lambda ms: float(population[ms].sum()))
    seats = _seats(pv_pop, total)
    names = dict(zip(municipalities["municipality_code"], municipalities["municipality_name"]))
    rows, assign = [], {}
    for pv, members in by_pv.items():
        members = sorted(members)
        k = int(min(seats[pv], len(members)))
        jitter = rng.lognormal(0.0, 0.35, size=len(members))
        region = _grow(members, population, adj, k, jitter)
        for r in range(k):
            ms = sorted((m for m, rr in region.items() if rr == r), key=lambda m: -population[m])
            code = f"{kind}{pv[2:]}{r + 1:02d}"
            label = names[ms[0]] if len(ms) == 1 else f"{names[ms[0]]} e.o."
            rows.append((code, f"Samenwerkingsverband {kind} {label}"))
            for m in ms:
                assign[m] = code
    return pd.DataFrame(rows, columns=["code", "name"]), assign


def dual_memberships(assign: dict[str, str], adj, candidates: list[str], n: int,
                     rng: np.random.Generator) -> dict[str, str]:
    """A few municipalities on an SWV border also belong to the neighbouring SWV (same
    province): municipality → second SWV code."""
    options = []
    for m in sorted(candidates):
        others = sorted({assign[nb] for nb in adj[m] if nb in assign and assign[nb] != assign[m]
                         and assign[nb][2:4] == assign[m][2:4]})
        if others:
            options.append((m, others[0]))
    if not options:
        return {}
    picked = rng.choice(len(options), size=min(n, len(options)), replace=False)
    return {options[i][0]: options[i][1] for i in sorted(picked)}
