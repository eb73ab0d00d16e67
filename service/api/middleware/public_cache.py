"""A shared cache in front of the application for public answers that do not change.

Releases are immutable once stored and the catalogue changes only when the register is
reloaded, so their answers are the same bytes for every anonymous caller. Routes say so the
HTTP way, with ``Cache-Control: public, max-age=N`` (or ``immutable``); this ASGI middleware
then behaves like a small reverse-proxy cache inside the process: the first anonymous ``GET``
runs the route as usual and the answer is kept; repeats are answered from memory before
routing, dependency injection and the database. That is what lets one process serve a
municipality's download and the catalogue to 50 concurrent clients (docs/benchmarks.md).

What is kept is only what a route marked ``public`` and answered with 200 to a request without
an API key: public DP releases and the public register, never an authenticated answer, an
error, or anything computed from un-noised pupil data. The key of an entry is the path, the
query string and the ``Accept`` header (formats are negotiated). Each entry gets a strong
``ETag`` (SHA-256 of the body) and a matching ``If-None-Match`` is answered ``304``. Memory is
bounded (least recently used entries go first); entries expire after their ``max-age``.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.auth import API_KEY_HEADER

_KEY_HEADER = API_KEY_HEADER.lower().encode("latin-1")
_MAX_AGE = re.compile(rb"max-age=(\d+)")
IMMUTABLE_SECONDS = 365 * 24 * 3600


def public_cache_control(max_age: int | None = None) -> str:
    """The Cache-Control value a route sets to let this cache (and any shared cache) keep its
    answer: ``immutable`` for content that never changes, else ``max-age``."""
    if max_age is None:
        return f"public, max-age={IMMUTABLE_SECONDS}, immutable"
    return f"public, max-age={max_age}"


@dataclass
class Entry:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: bytes
    expires: float


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    stored: int = 0
    not_modified: int = 0
    evicted: int = 0
    collapsed: int = 0
    bytes: int = 0


class PublicResponseCache:
    """ASGI middleware; `max_bytes` bounds the memory of all kept bodies together and
    `max_entry_bytes` the largest single body kept."""

    def __init__(self, app: ASGIApp, max_bytes: int = 256 * 1024 * 1024,
                 max_entry_bytes: int = 32 * 1024 * 1024, state: Any = None) -> None:
        self.app = app
        if state is not None:  # the app's state, so its owner can see the cache's counters
            state.response_cache = self
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes
        self.stats = CacheStats()
        self.entries: OrderedDict[tuple, Entry] = OrderedDict()
        self.filling: dict[tuple, asyncio.Event] = {}

    def clear(self) -> None:
        self.entries.clear()
        self.stats.bytes = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        accept = if_none_match = b""
        for name, value in scope["headers"]:
            if name == _KEY_HEADER:  # authenticated: always through the application
                await self.app(scope, receive, send)
                return
            if name == b"accept":
                accept = value
            elif name == b"if-none-match":
                if_none_match = value
        key = (scope["path"], scope.get("query_string", b""), accept)
        entry = self._fresh(key)
        if entry is None and key in self.filling:
            # another request is computing this answer: wait for it rather than compute it
            # again (50 cold requests for one download would otherwise build it 50 times)
            self.stats.collapsed += 1
            await self.filling[key].wait()
            entry = self._fresh(key)
        if entry is not None:
            self.entries.move_to_end(key)
            if if_none_match and entry.etag in _etags(if_none_match):
                self.stats.not_modified += 1
                headers = [(n, v) for n, v in entry.headers
                           if n not in (b"content-length", b"content-type", b"content-disposition")]
                await send({"type": "http.response.start", "status": 304, "headers": headers})
                await send({"type": "http.response.body", "body": b""})
                return
            self.stats.hits += 1
            await send({"type": "http.response.start", "status": entry.status,
                        "headers": entry.headers})
            await send({"type": "http.response.body", "body": entry.body})
            return
        self.stats.misses += 1
        if key in self.filling:  # the answer just computed was not kept: no more waiting
            await self.app(scope, receive, send)
            return
        done = self.filling[key] = asyncio.Event()
        try:
            await self._through(scope, receive, send, key)
        finally:
            del self.filling[key]
            done.set()

    def _fresh(self, key: tuple) -> Entry | None:
        entry = self.entries.get(key)
        return entry if entry is not None and entry.expires > time.monotonic() else None

    async def _through(self, scope: Scope, receive: Receive, send: Send, key: tuple) -> None:
        """Run the application; hold back a cacheable answer until its body is complete (so
        even the first answer carries its ETag), keep it, then send it."""
        held: Message | None = None
        chunks: list[bytes] = []
        size = max_age = 0

        async def capture(message: Message) -> None:
            nonlocal held, size, max_age
            if message["type"] == "http.response.start":
                seconds = _cacheable(message)
                if seconds is None:
                    await send(message)
                else:
                    held, max_age = message, seconds
                return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_entry_bytes:  # too big to keep: let the rest stream through
                await send(held)
                held = None
                for chunk in chunks:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                chunks.clear()
                await send(message)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                entry = self._store(key, held, b"".join(chunks), max_age)
                held = None
                await send({"type": "http.response.start", "status": entry.status,
                            "headers": entry.headers})
                await send({"type": "http.response.body", "body": entry.body})

        await self.app(scope, receive, capture)

    def _store(self, key: tuple, start: Message, body: bytes, max_age: int) -> Entry:
        headers = [(n.lower(), v) for n, v in start.get("headers", [])]
        etag = next((v for n, v in headers if n == b"etag"), None)
        if etag is None:
            etag = b'"' + hashlib.sha256(body).hexdigest()[:32].encode("ascii") + b'"'
            headers.append((b"etag", etag))
        entries = self.entries
        old = entries.pop(key, None)
        if old is not None:
            self.stats.bytes -= len(old.body)
        entry = entries[key] = Entry(start["status"], headers, body, etag,
                                     time.monotonic() + max_age)
        self.stats.bytes += len(body)
        self.stats.stored += 1
        while self.stats.bytes > self.max_bytes and entries:
            _, evicted = entries.popitem(last=False)
            self.stats.bytes -= len(evicted.body)
            self.stats.evicted += 1
        return entry


def _cacheable(start: Message) -> int | None:
    """Seconds to keep a response, or None: only a 200 that says ``public`` with a max-age,
    and that does not vary on anything but Accept (the only request header in the key)."""
    if start["status"] != 200:
        return None
    control = vary = b""
    for name, value in start.get("headers", []):
        lower = name.lower()
        if lower == b"cache-control":
            control = value.lower()
        elif lower == b"vary":
            vary = value.lower()
        elif lower == b"set-cookie":
            return None
    if b"public" not in control or b"no-store" in control or b"private" in control:
        return None
    if vary and any(v.strip() != b"accept" for v in vary.split(b",")):
        return None
    match = _MAX_AGE.search(control)
    return int(match.group(1)) if match and int(match.group(1)) > 0 else None


def _etags(header: bytes) -> set[bytes]:
    return {part.strip().removeprefix(b"W/") for part in header.split(b",")}
