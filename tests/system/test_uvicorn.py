"""The app under real uvicorn on a free loopback port (the same configuration `serve` uses):
health, an authenticated route, a problem, then a clean shutdown."""

from __future__ import annotations

import httpx

from support.live_server import serve_in_thread


def test_served_by_uvicorn(settings, keys):
    server, thread, base = serve_in_thread(settings, log_level="info")
    try:
        with httpx.Client(base_url=base, timeout=5) as http:
            health = http.get("/v1/health")
            assert health.status_code == 200 and health.json()["status"] == "ok"
            assert health.headers["api-version"] == "0.1.0"
            assert "server" not in health.headers
            me = http.get("/v1/me", headers=keys.header("policy"))
            assert me.status_code == 200 and me.json()["role"] == "policy"
            denied = http.get("/v1/keys", headers=keys.header("policy"))
            assert denied.status_code == 403
            assert denied.headers["content-type"] == "application/problem+json"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert not thread.is_alive()
