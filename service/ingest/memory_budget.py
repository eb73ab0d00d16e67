"""One budget of memory shared by the uploads a serving process parses, validates and stores
at the same time (``AANWEZIG_UPLOAD_MEMORY``).

A batch held in memory costs several times its bytes: the bytes themselves, Arrow's parsed
columns, the trimmed and normalised copies and DuckDB's working memory for the validation
joins (measured: one 56 MB CSV batch of 500,000 pupils raises the peak of a serving process
by 505 MiB, about 9x its size).
Each upload reserves ``COST_PER_BYTE`` times its size before its files are read into memory
(until then they are spooled to disk by the multipart parser); uploads that do not fit wait
in order of arrival, on the event loop (a waiting upload holds no worker thread); after its
work an upload calls :func:`give_back`. One that would wait longer than
``AANWEZIG_UPLOAD_WAIT_SECONDS`` is refused with :class:`UploadMemoryBusy` (503 with ``Retry-After``) instead of pushing the
process towards an out-of-memory kill. An upload larger than the whole budget reserves all of
it (it runs alone).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import math
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pyarrow as pa

COST_PER_BYTE = 10
"""Reserved bytes per uploaded byte (a measured 9x, rounded up; docs/benchmarks.md)."""
COST_FIXED = 16 * 1024 * 1024
"""Reserved for any upload, however small (Arrow's and DuckDB's working sets)."""


def give_back() -> None:
    """Return what an upload freed to the system: Arrow's allocator (jemalloc) keeps freed
    pages per arena for later and the C heap keeps them per thread, so without this the
    resident size of a server that takes uploads on many threads only grows (measured:
    +300 MB over eight 11 MB uploads, one at a time)."""
    pa.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc():
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        lib.malloc_trim.argtypes = [ctypes.c_size_t]
        return lib
    except (OSError, AttributeError):
        return None


_LIBC = _libc()


class UploadMemoryBusy(Exception):
    """The upload could not get its share of the memory budget in time; nothing was read."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__("the service is busy with other uploads; try again in "
                         f"{retry_after} seconds")


class UploadMemory:
    """A byte budget; ``async with budget.reserve(n)`` holds a share of it. Uploads wait on
    the event loop, so a waiting upload holds no worker thread (the work itself runs in one,
    inside the block). Used from one event loop."""

    def __init__(self, total_bytes: int, wait_seconds: float) -> None:
        self.total = total_bytes
        self.wait_seconds = wait_seconds
        self._used = 0
        self._queue: deque[object] = deque()
        self._cond: asyncio.Condition | None = None

    def cost(self, body_bytes: int) -> int:
        return min(self.total, COST_FIXED + COST_PER_BYTE * body_bytes)

    @property
    def used(self) -> int:
        return self._used

    @asynccontextmanager
    async def reserve(self, body_bytes: int) -> AsyncIterator[int]:
        """Hold the share for an upload of `body_bytes` (first come, first served), or raise
        UploadMemoryBusy after waiting `wait_seconds`."""
        if self._cond is None:
            self._cond = asyncio.Condition()
        cond = self._cond
        cost = self.cost(body_bytes)
        ticket = object()
        async with cond:
            self._queue.append(ticket)
            try:
                await asyncio.wait_for(cond.wait_for(
                    lambda: self._queue[0] is ticket and self._used + cost <= self.total),
                    self.wait_seconds)
            except asyncio.TimeoutError:
                raise UploadMemoryBusy(self.retry_after()) from None
            finally:
                self._queue.remove(ticket)
                cond.notify_all()
            self._used += cost
        try:
            yield cost
        finally:
            async with cond:
                self._used -= cost
                cond.notify_all()

    def retry_after(self) -> int:
        """Seconds a refused upload is told to wait: a quarter of the waiting time, at least 1."""
        return max(1, math.ceil(self.wait_seconds / 4))
