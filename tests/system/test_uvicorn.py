"""The app under real uvicorn on a free loopback port (the same configuration `serve` uses):
health, an authenticated route, a problem, then a clean shutdown."""

from __future__ import annotations

import socket
import threading
import time

import httpx

from service.api.app import uvicorn_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_served_by_uvicorn(settings, keys):
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn_config(settings, "127.0.0.1", port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
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
