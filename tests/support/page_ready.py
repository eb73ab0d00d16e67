"""Waiting for the page (service/static) to finish drawing, for the browser tests."""

from __future__ import annotations


def settled(page, timeout: int = 45000) -> None:
    """Charts, the weekly series and (when areas are compared) the comparison drawn."""
    page.wait_for_selector("body[data-ready=true]", timeout=timeout)
    page.wait_for_function("""() => ['charts', 'series-section'].every(
        id => document.getElementById(id).getAttribute('aria-busy') === 'false')
        && document.getElementById('compare-result').dataset.ready !== 'false'""", timeout=timeout)
