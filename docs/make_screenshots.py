"""The page's screenshots in docs/ (docs/page.md, "Screenshots"), at 1400 px (a laptop) and
390 px (a phone held upright), taken with Debian's headless Chromium through Playwright from a
running server — e.g. the demo:

    aanwezig demo --pupils 25000 --schools sample --port 8931 &
    python docs/make_screenshots.py --base http://127.0.0.1:8931

Writes docs/page-1400.png, docs/page-390.png, docs/page-390-ranking.png and
docs/page-390-weekly.png at device scale 1 (small files). Each waits until the page says it is
drawn (body[data-ready], no section busy), the same signal the browser tests wait for.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

DOCS = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
VIEW = "/?measure=absence_rate&level=province&areas=province:PV27,province:PV28&warea=province:PV27"

#: (file, viewport width, viewport height, view, element to capture or None for the viewport)
SHOTS = [
    ("page-1400.png", 1400, 1000, VIEW, None),
    ("page-390.png", 390, 844, VIEW, None),
    ("page-390-ranking.png", 390, 844, VIEW, "#charts figure:first-child"),
    ("page-390-weekly.png", 390, 844, VIEW, "#series-section"),
]


def settle(page) -> None:
    page.wait_for_selector("body[data-ready=true]", timeout=60000)
    page.wait_for_function("""() => ['charts', 'series-section'].every(
        id => document.getElementById(id).getAttribute('aria-busy') === 'false')
        && document.getElementById('compare-result').dataset.ready !== 'false'""", timeout=60000)
    page.wait_for_timeout(300)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8931", help="the running server")
    parser.add_argument("--out", type=Path, default=DOCS)
    args = parser.parse_args()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for name, width, height, view, selector in SHOTS:
            page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
            page.goto(args.base + view)
            settle(page)
            target = args.out / name
            if selector:
                page.locator(selector).screenshot(path=str(target))
            else:
                page.screenshot(path=str(target))
            page.close()
            print(f"{target} ({target.stat().st_size // 1024} KiB)")
        browser.close()


if __name__ == "__main__":
    main()
