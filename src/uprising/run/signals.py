"""SIGTERM (`kill`, a batch scheduler, a container's shutdown) handled as Ctrl-C is.

By default SIGTERM ends Python on the spot: no `with` block closes, so worker processes are left
running as orphans and what was to be written on the way out (a sweep's registry rows) is not.
Inside `sigterm_unwinds`, SIGTERM raises SystemExit instead, and the program unwinds through them.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


def _exit(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # the status a shell reports for a process so killed


@contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """While inside, SIGTERM unwinds the program (SystemExit) instead of ending it on the spot.

    Python lets only the main thread set signal handlers; elsewhere this changes nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
