"""Progress of a long step of the command line, with an estimate of the time left, on a
terminal (a live bar) AND without one (a pipe, a log: one line every few seconds), so a
national demo never runs silent for minutes.

    with steps(console, "ingesting batches", total=8420) as advance:
        advance(200)                 # 200 more done

The estimate is linear in what is done: elapsed / done × what is left.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)

#: seconds between two lines when the output is not a terminal
EVERY = 5.0


def duration(seconds: float) -> str:
    """'42 s', '3 min 05 s', '1 h 02 min'."""
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def line(what: str, done: int, total: int | None, elapsed: float) -> str:
    """One progress line: what, how far, the time so far and the estimate of the time left."""
    if not total:
        return f"{what}: {done:,} done, {duration(elapsed)}"
    left = elapsed / done * (total - done) if done else None
    return (f"{what}: {done:,}/{total:,} ({100 * done / total:.0f}%), {duration(elapsed)}"
            + (f", about {duration(left)} left" if left is not None and done < total else ""))


@contextlib.contextmanager
def steps(console: Console, what: str, total: int | None = None,
          every: float = EVERY) -> Iterator[Callable[..., None]]:
    """A progress reporter for `what`: yields `advance(n=1, total=None)` (the total may be
    learnt on the way; `to=` sets what is done instead of adding). A bar on a terminal; else a
    line every `every` seconds (also while one long step runs) and one at the end."""
    start = time.monotonic()
    state = {"done": 0, "total": total, "printed": start}
    if console.is_terminal:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                      console=console, transient=False) as bar:
            task = bar.add_task(what, total=total)

            def advance(n: int = 1, total: int | None = None, to: int | None = None) -> None:
                if total is not None:
                    bar.update(task, total=total)
                if to is not None:
                    bar.update(task, completed=to)
                else:
                    bar.advance(task, n)

            yield advance
        return

    lock = threading.Lock()
    stop = threading.Event()

    def report(force: bool = False) -> None:
        with lock:
            now = time.monotonic()
            if force or now - state["printed"] >= every:
                state["printed"] = now
                console.print(line(what, state["done"], state["total"], now - start),
                              markup=False, highlight=False)

    def advance(n: int = 1, total: int | None = None, to: int | None = None) -> None:
        with lock:
            state["done"] = to if to is not None else state["done"] + n
            if total is not None:
                state["total"] = total
        report()

    def heartbeat() -> None:          # a line every `every` s even while one step runs long
        while not stop.wait(every / 4):
            report()

    beat = threading.Thread(target=heartbeat, daemon=True)
    beat.start()
    try:
        yield advance
    finally:
        stop.set()
        beat.join()
    console.print(line(what, state["done"], state["total"], time.monotonic() - start)
                  .split(", about")[0] + " (done)", markup=False, highlight=False)
