"""Runs side by side on a machine's cores: one worker process per core, each pinned to its own.

On a CPU, XLA splits a run's larger kernels over every core the process may use, and on small
grids the hand-offs cost about what they gain: measured on a 2-core machine, an Epstein world of
400x400 steps about 20% faster pinned to one core than free on two, one of 100x100 and a country
run as fast (docs/performance.md, "Cores"). So a machine's cores are best spent on whole runs
side by side, and two country runs on 2 workers went about 14% faster pinned than free. JAX
sizes its thread pool by the cores the process may use when its backend starts, so each worker
pins itself first.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Mapping
from typing import Any

from uprising.run.signals import sigterm_unwinds

PER_WORKER_BYTES = 1 << 30
"""Memory of a worker beside its run's state: Python, JAX and the compiler (about 0.5-0.7 GiB
measured in the benchmarks' baselines), rounded up."""


def available() -> list[int]:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


RUNS_PER_WORKER = 4
"""Fewest runs worth a worker of their own: each worker starts JAX and compiles the model again
(10 to 25 s on a CPU), which a few runs do not win back (4 coarse runs took 31 s on 2 workers
against 19 s on one)."""


def workers_for(runs: int, run_bytes: float, memory: int) -> int:
    """How many runs to put side by side by default: one per core, at least `RUNS_PER_WORKER`
    runs each, as many as fit in `memory` with `run_bytes` each (at least one)."""
    fit = int(memory // (run_bytes + PER_WORKER_BYTES))
    return max(1, min(len(available()), runs // RUNS_PER_WORKER, fit))


_progress: Any = None
"""In a worker: the queue its tasks report progress on (`_Reporter`), set when it starts."""


def _start(started: Any, cores: list[int], progress: Any) -> None:
    """Pin a new worker to the next core (a worker that replaces a dead one takes the next),
    and keep the queue for progress reports."""
    global _progress
    _progress = progress
    with started.get_lock():
        core = cores[started.value % len(cores)]
        started.value += 1
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {core})


def pool(workers: int, progress: Any) -> Any:
    """`workers` fresh processes (spawned: JAX must not be forked), each pinned to its own core,
    whose tasks report progress on the queue `progress` (made by the spawn context).

    A `multiprocessing` pool rather than `concurrent.futures`: leaving its `with` block
    terminates the workers, so an interruption never waits on runs nobody will read. The queue
    goes to each worker as it starts, not through a `Manager`: a manager is a process of its own,
    which a parent killed outright (SIGKILL) would leave running.
    """
    if not 1 <= workers <= len(available()):
        raise ValueError(
            f"workers: {workers}; allowed: 1 to {len(available())} (this machine's cores)"
        )
    # Workers inherit this: sharing one GPU, each takes what it needs rather than 75% of it.
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    context = multiprocessing.get_context("spawn")
    started = context.Value("i", 0)
    cores = available()[:workers]
    return context.Pool(workers, initializer=_start, initargs=(started, cores, progress))


POLL_S = 0.2
"""How often the parent looks at its workers' progress."""


def side_by_side(
    task: Callable[..., Any],
    calls: Mapping[Any, tuple[Any, ...]],
    workers: int,
    progress: Callable[[Any, int], None] | None,
    finished: Callable[[Any, Any], None],
) -> None:
    """`task(*args, progress)` for each `key: args` of `calls`, on `workers` pinned processes.

    `finished(key, result)` runs here as each call ends, `progress(key, done)` as a worker's
    task reports it (passed to the task as its last argument). A failed call or an interruption
    (Ctrl-C, or SIGTERM: `signals`) stops the workers at once, after the finished calls were
    handed to `finished`.
    """
    # Written at once by `put` (no feeder thread, unlike `Queue`): a call's reports are all here
    # by the time its result is.
    queue = multiprocessing.get_context("spawn").SimpleQueue()
    with sigterm_unwinds(), pool(workers, queue) as executor:
        running = {
            key: executor.apply_async(task, (*args, _Reporter(key))) for key, args in calls.items()
        }
        while running:
            next(iter(running.values())).wait(POLL_S)
            while not queue.empty():
                key, done = queue.get()
                if progress:
                    progress(key, done)
            for key in [k for k, r in running.items() if r.ready()]:
                finished(key, running.pop(key).get())  # a failed call raises here


def summed(report: Callable[[int], None]) -> Callable[[Any, int], None]:
    """Progress of calls side by side, `(key, done)` each, as the total done, for one bar."""
    done: dict[Any, int] = {}

    def advance(key: Any, now: int) -> None:
        done[key] = now
        report(sum(done.values()))

    return advance


class _Reporter:
    """A task's `progress(key, done)` in a worker: sent to the parent on the worker's queue."""

    def __init__(self, key: Any) -> None:
        self.key = key

    def __call__(self, _key: Any, done: int) -> None:
        _progress.put((self.key, done))
