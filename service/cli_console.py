"""The command line's one console. Nothing it prints depends on a terminal it does not have: a
message is never hard-wrapped (a `refused:` line stays one line, whatever COLUMNS and the length
of a path in it), and without a terminal (a pipe, a log, a test) tables take their natural
width instead of being cut to COLUMNS with ellipses."""

from __future__ import annotations

import sys

from rich.console import Console

#: the width given to a console that writes to no terminal: wide enough for any table here
NO_TERMINAL_WIDTH = 4096


def make_console() -> Console:
    width = None if sys.stdout.isatty() else NO_TERMINAL_WIDTH
    return Console(soft_wrap=True, width=width)


console = make_console()
