"""What the commands share: --set parsing, errors, progress, printing and writing results."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from uprising.scenarios.country import CountryScenario
from uprising.scenarios.load import ScenarioError

err = Console(stderr=True)


def _value(text: str) -> Any:
    """A --set value: JSON (numbers, true/false, lists) where it parses, else the text itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ScenarioError(f"--set takes KEY=VALUE, got {pair!r}")
        out[key.strip()] = _value(value.strip())
    return out


def fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(2)


def warn_scale(spec: Any) -> None:
    """Say on stderr (never in --json's stdout) when the scenario's fit does not carry over to
    the run's scale (`CountryScenario.scale_note`)."""
    note = spec.scale_note() if isinstance(spec, CountryScenario) else None
    if note:
        err.print(f"[yellow]warning:[/] {note}", highlight=False)


def worker_count(asked: int | None, runs: int, spec: CountryScenario) -> int:
    """How many runs go side by side: as `--workers` asked (at most one per core), else one per
    core where runs and memory allow on a CPU, and one on a GPU (one device)."""
    import jax

    from uprising.run import cores
    from uprising.scenarios.schema import memory_bytes

    most = len(cores.available())
    if asked is not None and asked > most:
        fail(f"--workers {asked}: allowed 1 to {most} (this machine's cores)")
    if asked is not None:
        return asked
    if jax.default_backend() != "cpu":
        return 1
    return cores.workers_for(runs, spec.memory_need(), memory_bytes())


def record_runs(rows: list[dict[str, Any]], registry: Path | None) -> None:
    """Runs into the registry; a busy or unwritable registry is a warning, never a lost run."""
    from uprising.run.registry import RegistryError, record

    try:
        record(rows, registry)
    except (RegistryError, OSError) as e:
        err.print(f"[yellow]warning:[/] run not registered: {e}", highlight=False)


def progress_bar(label: str, unit: str, quiet: bool) -> Progress:
    return Progress(
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} " + unit),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=quiet,
    )


def print_json(result: Any) -> None:
    """The whole of stdout: one JSON object on one line."""
    sys.stdout.write(json.dumps(result) + "\n")


def print_files(files: dict[str, Any]) -> None:
    for label, path in files.items():
        Console().print(f"{label}: {path}")


def print_summary(summary: dict[str, Any]) -> None:
    table = Table("", "", show_header=False)
    for key, value in summary.items():
        if key != "files":
            table.add_row(key, str(value))
    Console().print(table)
    print_files(summary.get("files", {}))


def write_json(path: Path, result: Any) -> None:
    """Written whole or not at all: to a temporary file, then renamed."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1))
    tmp.replace(path)


def country_figures(
    ds: Any, spec: CountryScenario, folder: Path, out: Path, stem: str
) -> dict[str, str]:
    from uprising.scenarios.observed import load_observed
    from uprising.viz import country as figures

    files = {}
    if spec.outline:
        files["map"] = str(figures.map_by_day(ds, folder / spec.outline, out / f"{stem}-map.png"))
    observed = (
        load_observed(folder / spec.observed, [c.name for c in spec.cities])
        if spec.observed
        else None
    )
    files["timelines"] = str(figures.city_timelines(ds, observed, out / f"{stem}-cities.png"))
    return files
