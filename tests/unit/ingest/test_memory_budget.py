"""The upload memory budget on its own (service/ingest/memory_budget.py): shares add up to at
most the budget, waiters are served in order of arrival, a wait past its limit is refused
with a Retry-After, and an upload larger than the whole budget runs alone."""

from __future__ import annotations

import asyncio
import time

import pytest

from service.ingest.memory_budget import COST_FIXED, COST_PER_BYTE, UploadMemory, UploadMemoryBusy

MB = 1024 * 1024


def test_shares_never_exceed_the_budget_and_waiters_go_in_order():
    body = 10 * MB
    budget = UploadMemory(2 * (COST_FIXED + COST_PER_BYTE * body), wait_seconds=30)
    order, peak = [], [0]

    async def upload(i: int) -> None:
        await asyncio.sleep(0.01 * i)          # arrive in order
        async with budget.reserve(body):
            order.append(i)
            peak[0] = max(peak[0], budget.used)
            await asyncio.sleep(0.05)

    async def main() -> None:
        await asyncio.gather(*(upload(i) for i in range(8)))

    asyncio.run(main())
    assert peak[0] <= budget.total
    assert peak[0] == budget.total            # two at a time, not one
    assert order == sorted(order)
    assert budget.used == 0


def test_a_wait_past_its_limit_is_refused_with_retry_after():
    budget = UploadMemory(100 * MB, wait_seconds=0.2)

    async def main() -> float:
        async with budget.reserve(50 * MB):   # larger than the budget: holds all of it
            assert budget.used == budget.total
            started = time.monotonic()
            with pytest.raises(UploadMemoryBusy) as refused:
                async with budget.reserve(1):
                    pass
            waited = time.monotonic() - started
        assert refused.value.retry_after == 1
        assert budget.used == 0
        async with budget.reserve(1):        # free again, at once
            assert budget.used == COST_FIXED + COST_PER_BYTE
        return waited

    assert 0.2 <= asyncio.run(main()) < 2
