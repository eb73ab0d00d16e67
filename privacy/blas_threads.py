"""One BLAS thread for the release maths' small matrices (a few hundred rows): threads only
contend on a shared 2-core machine.

`threadpoolctl.threadpool_limits` looks for the loaded BLAS libraries on every call (it reads
the process's memory map: about 7 ms each); a release enters such a limit some 200 times.
`one_blas_thread` finds them once (after numpy and scipy's linear algebra are imported, so
both their BLAS builds are seen) and only sets and restores the limit after that.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager

import numpy  # noqa: F401  (loads numpy's BLAS before the libraries are listed)
import scipy.linalg  # noqa: F401  (and scipy's)
from threadpoolctl import ThreadpoolController

_CONTROLLER: ThreadpoolController | None = None
_LOCK = threading.Lock()


def one_blas_thread() -> AbstractContextManager:
    """A context in which BLAS runs on one thread (restored on exit)."""
    global _CONTROLLER
    with _LOCK:
        if _CONTROLLER is None:
            _CONTROLLER = ThreadpoolController()
        controller = _CONTROLLER
    return controller.limit(limits=1, user_api="blas")
