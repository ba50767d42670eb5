"""The command line: `uprising scenarios`, `uprising run SCENARIO ...`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from uprising.scenarios.load import ScenarioError, builtin_names, load_scenario

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
err = Console(stderr=True)


def _value(text: str) -> Any:
    """A --set value: JSON (numbers, true/false, lists) where it parses, else the text itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _overrides(pairs: list[str]) -> dict[str, Any]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ScenarioError(f"--set takes KEY=VALUE, got {pair!r}")
        out[key.strip()] = _value(value.strip())
    return out


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(2)


@app.command()
def scenarios() -> None:
    """List the built-in scenarios."""
    table = Table("name", "rules", "grid", "steps", "description")
    for name in builtin_names():
        s = load_scenario(name)
        table.add_row(
            name, s.rules, f"{s.world.height}x{s.world.width}", str(s.steps), s.description
        )
    Console().print(table)


@app.command("run")
def run_command(
    scenario: Annotated[str, typer.Argument(help="built-in name or path to a TOML file")],
    rules: Annotated[str | None, typer.Option(help="paper | netlogo | mesa")] = None,
    steps: Annotated[
        int | None, typer.Option(min=1, help="steps to run (default: scenario's)")
    ] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    set_: Annotated[list[str], typer.Option("--set", help="override a parameter: KEY=VALUE")] = [],  # noqa: B006
    out: Annotated[
        Path | None, typer.Option(help="folder for the Parquet series and figures")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="print one JSON object on stdout")
    ] = False,
) -> None:
    """Run a scenario once: time series, outbursts, figures."""
    from uprising.run.results import write_timeseries
    from uprising.run.simulate import simulate, summarize
    from uprising.viz import figures

    try:
        overrides = _overrides(set_)
        if rules is not None:
            overrides["rules"] = rules
        if steps is not None:
            overrides["steps"] = steps
        spec = load_scenario(scenario, overrides)
    except ScenarioError as e:
        _fail(str(e))
        return
    with Progress(
        TextColumn(f"{spec.name} [{spec.rules}] seed {seed}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} steps"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=as_json,
    ) as bar:
        task = bar.add_task("run", total=spec.steps)
        ds = simulate(
            spec, seed=seed, progress=lambda done, total: bar.update(task, completed=done)
        )
    summary = summarize(ds)
    if out is not None:
        stem = f"{spec.name}-{spec.rules}-seed{seed}"
        summary["files"] = {
            "timeseries": str(write_timeseries(ds, out / f"{stem}.parquet")),
            "figure": str(figures.timeseries(ds, out / f"{stem}-timeseries.png")),
            "grid": str(figures.grid(ds, out / f"{stem}-grid.png")),
        }
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
        return
    table = Table("", "", show_header=False)
    for key, value in summary.items():
        if key != "files":
            table.add_row(key, str(value))
    Console().print(table)
    for label, path in summary.get("files", {}).items():
        Console().print(f"{label}: {path}")


if __name__ == "__main__":
    app()
