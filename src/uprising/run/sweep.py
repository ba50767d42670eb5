"""Running a sweep: every (point, seed) is one task on a Dask cluster, local or remote.

Nothing is lost to a kill: each finished run is written at once, atomically, as its own part
(`parts/point00003-seed7.parquet`), and the same sweep started again into the same folder runs
only the tasks that have no part. The table (`results.parquet`) is the parts concatenated and
sorted, so it is the same however often the sweep was interrupted. Only this process, the
coordinator, writes files and the run registry; workers compute and send back rows. A worker
process compiles each shape of world once and reuses it for every task it is given.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from uprising.analysis import metrics as compute
from uprising.run import registry
from uprising.run.country import simulate_country
from uprising.run.results import META_KEY, read_metadata, write_table
from uprising.run.signals import sigterm_unwinds
from uprising.run.simulate import package_version, provenance_of, simulate
from uprising.scenarios.country import CountryScenario
from uprising.scenarios.load import AnyScenario
from uprising.scenarios.sweep import Plan, SweepError

PARTS, RESULTS, COPY, LOCK = "parts", "results.parquet", "sweep.toml", ".lock"
FLUSH_S = 2.0
"""Registry rows are written at most this often (DuckDB opens the file for each write)."""
CONNECT_S = 30
"""How long to try to reach a --scheduler."""


class SweepFailed(RuntimeError):
    """A run failed or the cluster could not be used; finished runs are kept for a restart."""


@dataclass(frozen=True)
class Summary:
    out: str
    points: int
    tasks: int
    done: int
    skipped: int
    results: str
    unregistered: str = ""
    """Why runs could not go to the registry (they will on the next start), or empty."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def part_path(out: Path, point: int, seed: int) -> Path:
    return out / PARTS / f"point{point:05d}-seed{seed}.parquet"


def run_task(
    spec: AnyScenario, seed: int, metrics: Sequence[str], series: Sequence[str], every: int
) -> dict[str, Any]:
    """One run, on a worker: (metric, step, value) rows, all its metrics, provenance, time.

    The same calls as `uprising.run`, so a sweep's numbers are those of single runs.
    """
    t0 = time.perf_counter()
    if isinstance(spec, CountryScenario):
        ds = simulate_country(spec, seed)
        found = compute.country(ds, spec.capital)
        steps = ds["hour"].values
        values = {name: ds[name].values.sum(axis=1) for name in series}
    else:
        ds = simulate(spec, seed)
        found = compute.epstein(ds)
        steps = ds["step"].values
        values = {name: ds[name].values for name in series}
    wall = time.perf_counter() - t0
    last, kept = int(steps[-1]), steps % every == 0
    rows = [(name, last, found[name]) for name in metrics]
    for name in series:
        picked = zip(steps[kept], values[name][kept], strict=True)
        rows += [(name, int(s), float(v)) for s, v in picked]
    return {"rows": rows, "metrics": found, "provenance": provenance_of(ds), "wall_s": wall}


def sweep(
    plan: Plan,
    out: Path,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    registry_path: Path | None = None,
) -> Summary:
    """Run what `out` does not hold yet, then write `out/results.parquet` from all the parts.

    Locally on `workers` processes (default: one per CPU), or on the Dask scheduler at
    `scheduler`. Every finished run goes to the registry; runs finished before a kill but not
    yet recorded are recorded now. A registry that cannot be written stops nothing: its error is
    in the summary, and the parts keep the rows for the next start.
    """
    out.mkdir(parents=True, exist_ok=True)
    with sigterm_unwinds(), _lock(out):
        _claim(plan, out)
        tasks = plan.tasks()
        finished = {t: part_path(out, *t) for t in tasks if part_path(out, *t).exists()}
        recorder = _Recorder(registry_path)
        todo = [t for t in tasks if t not in finished]
        try:
            recorder.add(_entries(plan, finished))  # those held are skipped there
            if progress:
                progress(len(finished), len(tasks))
            if todo:
                n = min(workers or os.cpu_count() or 1, len(todo))
                with _client(scheduler, n) as client:
                    _execute(plan, out, todo, client, recorder, len(finished), progress)
            results = _collect(plan, out)
        finally:
            recorder.flush()  # also when a run failed: what finished is recorded
    return Summary(
        out=str(out),
        points=len(plan.points),
        tasks=len(tasks),
        done=len(todo),
        skipped=len(finished),
        results=str(results),
        unregistered=recorder.error,
    )


@contextmanager
def _lock(out: Path) -> Iterator[None]:
    """One coordinator per folder; the OS drops the lock when the process dies, even by kill -9."""
    with open(out / LOCK, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SweepError(f"another sweep is running in {out}") from None
        yield


def _claim(plan: Plan, out: Path) -> None:
    """Keep a copy of the sweep file, or check that the folder was made by the same file."""
    copy = out / COPY
    if copy.exists() and copy.read_bytes() != plan.text:
        raise SweepError(
            f"{out} holds another sweep: its {COPY} differs from {plan.path}; use another --out,"
            f" or delete {out} to start over"
        )
    if not copy.exists():
        tmp = copy.with_name(f".{COPY}.{os.getpid()}.tmp")
        tmp.write_bytes(plan.text)
        os.replace(tmp, copy)
    for stale in [*out.glob(".*.tmp"), *(out / PARTS).glob(".*.tmp")]:  # left by a kill
        stale.unlink()


def _entries(plan: Plan, finished: dict[tuple[int, int], Path]) -> list[dict[str, Any]]:
    """The registry rows kept in finished parts, each checked against the scenario it was run on."""
    rows = []
    for (point, _), path in finished.items():
        row = json.loads(str(read_metadata(path)["run"]))
        if row["scenario_hash"] != plan.specs[point].digest():
            raise SweepError(
                f"{path} was run on another scenario (hash {row['scenario_hash']}, now"
                f" {plan.specs[point].digest()}): has the scenario file changed? Use another --out"
            )
        if row["version"] != package_version():
            raise SweepError(
                f"{path} was run by uprising {row['version']}, this is {package_version()}:"
                " its numbers could differ from a run here. Use another --out"
            )
        row["recorded_at"] = dt.datetime.fromisoformat(row["recorded_at"])
        rows.append(row)
    return rows


class _Recorder:
    """Registry rows of finished runs, written in batches. A failure is kept, not raised: the
    parts hold the rows, so the next start records them."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.pending: list[dict[str, Any]] = []
        self.error = ""
        self.last = time.monotonic()

    def add(self, rows: list[dict[str, Any]]) -> None:
        self.pending += rows
        if not self.error and time.monotonic() - self.last > FLUSH_S:  # once failed: at the end
            self.flush()

    def flush(self) -> None:
        if self.pending:
            try:
                registry.record(self.pending, self.path)
                self.pending = []
            except (registry.RegistryError, OSError) as e:
                self.error = str(e)
        self.last = time.monotonic()


@contextmanager
def _client(scheduler: str | None, workers: int) -> Iterator[Any]:
    """A Dask client: of the scheduler at `scheduler`, else of a local cluster of `workers`
    single-threaded processes (so that JAX, not Dask, uses the cores)."""
    from distributed import Client, LocalCluster

    if scheduler is None:
        # Workers inherit this: on one GPU, each takes what it needs rather than 75% of it.
        os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    try:
        client = Client(scheduler, timeout=CONNECT_S)
    except (OSError, TimeoutError) as e:
        raise SweepFailed(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None
    with client:
        yield client


def _check_workers(client: Any) -> None:
    """Workers must run this version of uprising: results would differ otherwise."""
    mine = package_version()
    wrong = {
        worker: version if isinstance(version, str) else f"none ({version!r})"
        for worker, version in client.run(package_version, on_error="return").items()
        if version != mine
    }
    if wrong:
        raise SweepFailed(
            f"workers must run uprising {mine}, as here; "
            + ", ".join(f"{worker} has {version}" for worker, version in wrong.items())
        )


def _execute(
    plan: Plan,
    out: Path,
    todo: list[tuple[int, int]],
    client: Any,
    recorder: _Recorder,
    skipped: int,
    progress: Callable[[int, int], None] | None,
) -> None:
    """Send the tasks, write each part as its run comes back, record it."""
    from distributed import as_completed

    _check_workers(client)
    points = sorted({p for p, _ in todo})
    specs = dict(zip(points, client.scatter([plan.specs[p] for p in points]), strict=True))
    args = (plan.metrics, plan.series, plan.sweep.every)
    futures = [client.submit(run_task, specs[p], s, *args, pure=False) for p, s in todo]
    task = {future.key: t for future, t in zip(futures, todo, strict=True)}
    columns = _parameter_columns(plan)
    done, total = skipped, len(plan.tasks())
    for future in as_completed(futures):
        point, seed = task[future.key]
        try:
            result = future.result()
        except Exception as e:
            raise SweepFailed(f"point {point} seed {seed} failed: {type(e).__name__}: {e}") from e
        future.release()
        path = part_path(out, point, seed)
        row = registry.entry(
            command="sweep",
            provenance=result["provenance"],
            variant=plan.sweep.variant,
            params=plan.overrides(point),
            metrics=result["metrics"],
            wall_s=result["wall_s"],
            result_path=path,
        )
        frame = pd.DataFrame(result["rows"], columns=["metric", "step", "value"])
        head = {"point": point, "seed": seed} | {k: v[point] for k, v in columns.items()}
        for i, (key, value) in enumerate(head.items()):
            frame.insert(i, key, value)
        frame = frame.astype({"point": "int64", "seed": "int64", "step": "int64", "value": float})
        write_table(frame, path, {"run": json.dumps(row, default=str)})
        recorder.add([row])
        done += 1
        if progress:
            progress(done, total)


def _parameter_columns(plan: Plan) -> dict[str, list[Any]]:
    """Each parameter's value at every point, of one type per column so that parts concatenate:
    whole numbers among fractions as floats, a mixture of kinds as text."""
    columns = {}
    for key in plan.sweep.parameters:
        values = [point[key] for point in plan.points]
        kinds = {type(v) for v in values}
        if kinds == {int, float}:
            values = [float(v) for v in values]
        elif len(kinds) > 1:
            values = [str(v) for v in values]
        columns[key] = values
    return columns


def _collect(plan: Plan, out: Path) -> Path:
    """All parts as one table, sorted, with the sweep's provenance in its metadata."""
    parts = []
    for point, seed in plan.tasks():
        table = pq.read_table(part_path(out, point, seed))
        meta = {k: v for k, v in (table.schema.metadata or {}).items() if k != META_KEY}
        parts.append(table.replace_schema_metadata(meta))
    frame = pa.concat_tables(parts).to_pandas()
    frame = frame.sort_values(["point", "seed", "metric", "step"], kind="stable")
    meta = {
        "version": package_version(),
        "scenario": plan.base.name,
        "scenario_hash": plan.base.digest(),
        "variant": plan.sweep.variant or "",
        "sweep_hash": plan.digest,
        "points": len(plan.points),
        "seeds": plan.sweep.seeds,
    }
    return write_table(frame.reset_index(drop=True), out / RESULTS, meta)
