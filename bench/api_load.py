"""Load benchmark: latency percentiles with 50 concurrent clients against uvicorn on loopback.

    python bench/api_load.py --db aanwezig.duckdb --clients 50 --requests 2000

Starts `aanwezig serve` (one uvicorn worker) on a free 127.0.0.1 port in a subprocess, warms
up, then for each scenario runs `clients` concurrent httpx.AsyncClient loops until `requests`
requests are done (bounded count and time), and records each request's latency:
- municipality: GET /v1/releases/{standard}/areas/municipality/GM0363 (a region's download);
- catalog: GET /v1/catalog;
- cached query: POST /v1/queries repeated (the stored release, no budget spent).
Results (p50/p95/p99 ms, requests/s) go to bench/out/api_load.json. Traffic stays on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def scenario(base: str, method: str, path: str, clients: int, total: int, headers: dict,
                   body: dict | None, deadline: float) -> dict:
    latencies: list[float] = []
    errors = 0
    remaining = total

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal remaining, errors
        while remaining > 0 and time.perf_counter() < deadline:
            remaining -= 1
            start = time.perf_counter()
            r = await client.request(method, path, headers=headers, json=body)
            latencies.append((time.perf_counter() - start) * 1000)
            errors += r.status_code >= 400

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(clients)))
        elapsed = time.perf_counter() - start
    q = statistics.quantiles(latencies, n=100)
    return {"requests": len(latencies), "errors": errors, "p50_ms": round(q[49], 2),
            "p95_ms": round(q[94], 2), "p99_ms": round(q[98], 2),
            "requests_per_second": round(len(latencies) / elapsed, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=120)
    args = parser.parse_args()
    port = free_port()
    env = {**os.environ, "AANWEZIG_MODE": "demo", "AANWEZIG_DB": str(args.db)}
    server = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(base + "/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        from service.auth import create_key
        from service.db import connect
        from service.settings import Settings
        release_id = httpx.get(base + "/v1/releases", params={"kind": "standard"}).json()["data"][0]["release_id"]
        # a researcher key and one paid query to repeat (created through the API as admin)
        admin = {"X-API-Key": Settings(mode="demo").admin_key}
        key = httpx.post(base + "/v1/keys", headers=admin,
                         json={"role": "researcher", "scope": "bench", "label": "load"}).json()
        researcher = {"X-API-Key": key["secret"]}
        query = {"measure": "chronic_share", "group_by": ["province"], "budget": {"rho": "0.001"}}
        assert httpx.post(base + "/v1/queries", headers=researcher, json=query, timeout=60).status_code in (200, 201)
        area = f"/v1/releases/{release_id}/areas/municipality/GM0363"
        httpx.get(base + area, timeout=60)  # warm the area cache
        plans = {"municipality_download": ("GET", area, {}, None),
                 "catalog": ("GET", "/v1/catalog", {}, None),
                 "cached_query": ("POST", "/v1/queries", researcher, query)}
        results = {}
        for name, (method, path, headers, body) in plans.items():
            deadline = time.perf_counter() + args.seconds
            results[name] = asyncio.run(scenario(base, method, path, args.clients, args.requests,
                                                 headers, body, deadline))
    finally:
        server.terminate()
        server.wait(timeout=10)
    out = {"clients": args.clients, "tool": "httpx.AsyncClient (bench/api_load.py), one uvicorn worker",
           **results}
    Path("bench/out").mkdir(parents=True, exist_ok=True)
    Path("bench/out/api_load.json").write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
