"""`uprising sweep`: a sweep file's points and seeds on Dask, resumable after a kill."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from uprising.cli.common import err, fail, print_json, print_summary, progress_bar
from uprising.cli.options import JsonOption, RegistryOption


def sweep_command(
    file: Annotated[Path, typer.Argument(help="the sweep file (TOML; see docs/sweeps.md)")],
    out: Annotated[Path, typer.Option(help="folder for the parts and results.parquet")],
    scheduler: Annotated[
        str | None,
        typer.Option(help="a running Dask scheduler, tcp://HOST:PORT (default: local processes)"),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="local worker processes (default: one per CPU)")
    ] = None,
    registry: RegistryOption = None,
    as_json: JsonOption = False,
) -> None:
    """Parameter sweep: every point and seed, one row per run and metric, resumable after a kill."""
    import os

    from uprising.run.sweep import SweepFailed, sweep
    from uprising.scenarios.sweep import SweepError, plan

    # Before JAX starts here or in local workers: they share a GPU rather than each take 75%.
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    try:
        if scheduler is not None and workers is not None:
            raise SweepError("--workers sizes a local cluster; a --scheduler has its own workers")
        checked = plan(file)
    except SweepError as e:
        fail(str(e))
        return
    label = f"sweep {checked.base.name}: {len(checked.points)} points x {checked.sweep.seeds} seeds"
    try:
        with progress_bar(label, "runs", as_json) as bar:
            task = bar.add_task("runs", total=len(checked.tasks()))
            summary = sweep(
                checked,
                out,
                scheduler,
                workers,
                lambda done, total: bar.update(task, completed=done),
                registry,
            )
    except SweepError as e:
        fail(str(e))
        return
    except SweepFailed as e:
        err.print(f"[bold red]error:[/] {e}", highlight=False)
        raise typer.Exit(1) from None
    if summary.unregistered:
        err.print(
            f"[yellow]warning:[/] runs not registered ({summary.unregistered}); the next"
            " start of this sweep registers them",
            highlight=False,
        )
    if as_json:
        print_json(summary.as_dict())
        return
    print_summary({k: v for k, v in summary.as_dict().items() if k != "unregistered"})
