"""`uprising runs`: the run registry read back, by filters or read-only SQL."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from uprising.cli.common import fail
from uprising.cli.options import JsonOption, RegistryOption


def _metrics_text(metrics: Any) -> str:
    """Non-zero metrics, short; NaN (stored as NULL: no outbursts to wait between) as n/a."""
    items = dict(metrics).items()
    return ", ".join(f"{k}={'n/a' if v is None else format(v, '.3g')}" for k, v in items if v != 0)


def runs_command(
    scenario: Annotated[str | None, typer.Option(help="only runs of this scenario")] = None,
    variant: Annotated[str | None, typer.Option(help="only runs of this variant")] = None,
    command: Annotated[
        str | None, typer.Option(help="only runs made by: run, ensemble, sweep, ...")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="at most this many, newest first")] = 20,
    sql: Annotated[
        str | None, typer.Option(help="a read-only SQL query over the table `runs`")
    ] = None,
    registry: RegistryOption = None,
    as_json: JsonOption = False,
) -> None:
    """The run registry: list and filter runs, or query them with SQL (read-only)."""
    from uprising.run.registry import RegistryError, location, query, recent

    try:
        if sql is not None:
            frame = query(sql, registry)
        else:
            frame = recent(registry, scenario, variant, command, limit)
    except RegistryError as e:
        fail(str(e))
        return
    if as_json:
        sys.stdout.write(frame.to_json(orient="records", date_format="iso") + "\n")
        return
    shown = frame
    if sql is None:
        shown = frame.assign(
            run_id=frame["run_id"].str[:8],
            recorded_at=frame["recorded_at"].astype(str).str[:19],
            wall_s=frame["wall_s"].round(1),
            metrics=frame["metrics"].map(_metrics_text),
        )[["run_id", "recorded_at", "command", "scenario", "variant", "seed", "wall_s", "metrics"]]
    table = Table(*map(str, shown.columns), title=f"{location(registry)} · {len(shown)} rows")
    for row in shown.itertuples(index=False):
        table.add_row(*(str(v) for v in row))
    Console().print(table)
