"""The command line's progress without a terminal (service.cli_progress): a line every few
seconds with what is done and an estimate of the time left, and a last line when done."""

from __future__ import annotations

import io
import time

from rich.console import Console

from service.cli_progress import duration, line, steps


def test_a_line_says_how_far_and_estimates_the_time_left_linearly():
    assert line("ingesting batches", 2105, 8420, 60.0) == \
        "ingesting batches: 2,105/8,420 (25%), 1 min 00 s, about 3 min 00 s left"
    assert line("deriving", 0, 25, 3.0) == "deriving: 0/25 (0%), 3 s"
    assert line("generating", 10, None, 4.0) == "generating: 10 done, 4 s"
    assert duration(3725) == "1 h 02 min"


def test_without_a_terminal_it_prints_a_line_every_interval_and_at_the_end():
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=200)
    with steps(console, "deriving", 4, every=0.05) as advance:
        advance(1)                       # too soon for a line
        time.sleep(0.3)                  # one long step: lines keep coming meanwhile
        advance(total=5, to=3)           # the total learnt on the way
    lines = out.getvalue().splitlines()
    waiting = [x for x in lines if x.startswith("deriving: 1/4 (25%), 0 s, about ")]
    assert 3 <= len(waiting) <= 7, lines
    assert lines[-1] == "deriving: 3/5 (60%), 0 s (done)"
    assert all(x.startswith("deriving: ") for x in lines)
