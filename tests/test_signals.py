"""A program running workers side by side leaves no process behind when it is stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = """
import pathlib, sys, time
from uprising.run import cores

def wait(seconds, started, progress):
    pathlib.Path(started).touch()
    time.sleep(seconds)

if __name__ == "__main__":
    call = (float(sys.argv[1]), sys.argv[2])
    cores.side_by_side(wait, {0: call}, 1, None, lambda key, result: None)
"""

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/task").exists(), reason="reads processes in /proc (Linux)"
)


def _children(pid: int) -> set[int]:
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
        return {int(c) for t in tasks for c in (t / "children").read_text().split()}
    except FileNotFoundError:
        return set()


def _alive(pid: int) -> bool:
    """Running, not a zombie: a container's init may leave exited orphans unreaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0] != "Z"
    except FileNotFoundError:
        return False


def _until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize(
    ("sig", "task_s", "status"),
    [
        # SIGTERM unwinds the parent (`run.signals`), which stops its worker at once.
        (signal.SIGTERM, 120, 128 + signal.SIGTERM),
        # SIGKILL cannot be caught: the worker ends its call and exits, and nothing else stays
        # (with a `Manager` for progress, its process stayed).
        (signal.SIGKILL, 2, -signal.SIGKILL),
    ],
)
def test_a_stopped_parent_leaves_no_process_behind(tmp_path, sig, task_s, status) -> None:
    script = tmp_path / "side_by_side.py"
    script.write_text(SCRIPT)
    started = tmp_path / "started"
    parent = subprocess.Popen([sys.executable, str(script), str(task_s), str(started)])
    children: set[int] = set()
    try:
        # 60 s: a spawned worker imports uprising, JAX among it.
        assert _until(started.exists, 60)
        children = _children(parent.pid)  # the worker, and whatever else the parent started
        parent.send_signal(sig)
        assert parent.wait(timeout=30) == status
        left = lambda: [c for c in children if _alive(c)]  # noqa: E731
        assert _until(lambda: not left(), task_s + 30), left()
    finally:  # whatever failed above, leave nothing running
        for pid in [*children, parent.pid]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
