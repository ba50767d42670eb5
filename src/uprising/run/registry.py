"""The run registry: every run, with what it takes to find it again, in one DuckDB file.

One row per run: when, package version, scenario, its hash, variant, rules, parameters (the
overrides, as JSON), seed, backend, wall time, metrics (a MAP of name to value) and the file its
results went to. `record` appends, skipping runs already held; `query` reads, on a read-only
connection, so a query can never change the registry. Only the process that runs a command
writes (sweep workers do not): DuckDB lets one process write a file at a time.

    uprising runs --sql "SELECT variant, avg(metrics['deaths']) FROM runs GROUP BY variant"
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

DEFAULT = Path("uprising-runs") / "registry.duckdb"
ENV = "UPRISING_REGISTRY"
"""Environment variable naming the registry file (else ./uprising-runs/registry.duckdb)."""
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY,
    recorded_at TIMESTAMP,
    command VARCHAR,
    version VARCHAR,
    scenario VARCHAR,
    scenario_hash VARCHAR,
    variant VARCHAR,
    rules VARCHAR,
    params JSON,
    seed BIGINT,
    backend VARCHAR,
    wall_s DOUBLE,
    metrics MAP(VARCHAR, DOUBLE),
    result_path VARCHAR
)"""
COLUMNS = [
    "run_id",
    "recorded_at",
    "command",
    "version",
    "scenario",
    "scenario_hash",
    "variant",
    "rules",
    "params",
    "seed",
    "backend",
    "wall_s",
    "metrics",
    "result_path",
]
LOCK_WAIT_S = 30.0
"""How long `record` retries while another process holds the file."""


class RegistryError(RuntimeError):
    pass


def location(path: Path | str | None = None) -> Path:
    """The registry file: `path`, else $UPRISING_REGISTRY, else ./uprising-runs/registry.duckdb."""
    return Path(path or os.environ.get(ENV) or DEFAULT)


def entry(
    *,
    command: str,
    provenance: dict[str, Any],
    variant: str | None,
    params: dict[str, Any],
    metrics: dict[str, float],
    wall_s: float,
    result_path: Path | str | None = None,
) -> dict[str, Any]:
    """One row, from a run's provenance (`run.simulate.provenance`) and its metrics."""
    return {
        "run_id": uuid.uuid4().hex,
        "recorded_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
        "command": command,
        "version": provenance["version"],
        "scenario": provenance["scenario"],
        "scenario_hash": provenance["scenario_hash"],
        "variant": variant,
        "rules": provenance["rules"],
        "params": json.dumps(params, sort_keys=True, default=str),
        "seed": int(provenance["seed"]),
        "backend": provenance["backend"],
        "wall_s": float(wall_s),
        "metrics": {k: float(v) for k, v in metrics.items()},
        "result_path": None if result_path is None else str(result_path),
    }


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as e:  # another process holds the write lock
            if time.monotonic() > deadline:
                raise RegistryError(f"registry {path} is busy: {e}") from None
            time.sleep(0.2)


def record(rows: Iterable[dict[str, Any]], path: Path | str | None = None) -> Path:
    """Append rows (from `entry`) to the registry, creating it if needed; rows it already holds
    (same run_id) are skipped, so recording a run again after a kill is harmless."""
    rows = list(rows)
    target = location(path)
    if not rows:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(rows, columns=COLUMNS)  # noqa: F841 (read by DuckDB below)
    with _connect(target, read_only=False) as con:
        con.execute(SCHEMA)
        con.execute(f"INSERT OR IGNORE INTO runs SELECT {', '.join(COLUMNS)} FROM frame")
    return target


def query(sql: str, path: Path | str | None = None) -> pd.DataFrame:
    """The result of `sql` over the registry (table `runs`), read-only."""
    target = location(path)
    if not target.exists():
        raise RegistryError(f"no registry at {target} yet: runs are recorded as they finish")
    with _connect(target, read_only=True) as con:
        try:
            return con.execute(sql).df()
        except duckdb.Error as e:
            raise RegistryError(f"query failed: {e}") from None


def recent(
    path: Path | str | None = None,
    scenario: str | None = None,
    variant: str | None = None,
    command: str | None = None,
    limit: int = 20,
) -> pd.DataFrame:
    """The latest runs, newest first, optionally of one scenario, variant or command."""
    where, args = [], []
    for column, value in (("scenario", scenario), ("variant", variant), ("command", command)):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    sql = "SELECT * FROM runs" + (f" WHERE {' AND '.join(where)}" if where else "")
    sql += f" ORDER BY recorded_at DESC LIMIT {int(limit)}"
    target = location(path)
    if not target.exists():
        raise RegistryError(f"no registry at {target} yet: runs are recorded as they finish")
    with _connect(target, read_only=True) as con:
        return con.execute(sql, args).df()
