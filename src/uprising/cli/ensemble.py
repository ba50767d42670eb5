"""`uprising ensemble`: how a country scenario's uprisings end, over many seeds or a posterior."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from uprising.cli.common import (
    fail,
    parse_overrides,
    print_files,
    print_json,
    progress_bar,
    record_runs,
    warn_scale,
    worker_count,
    write_json,
)
from uprising.cli.options import (
    CountryArgument,
    JsonOption,
    RegistryOption,
    SetOption,
    WorkersOption,
)
from uprising.scenarios.country import CountryScenario
from uprising.scenarios.load import ScenarioError, load_scenario, scenario_folder


def ensemble_command(
    scenario: CountryArgument,
    variant: Annotated[str | None, typer.Option(help="run this variant of the scenario")] = None,
    runs: Annotated[int, typer.Option(min=1, max=100_000, help="number of runs")] = 100,
    seed: Annotated[int, typer.Option(min=0, help="first seed (then seed+1, ...)")] = 0,
    batch: Annotated[
        int | None, typer.Option(min=1, help="runs per compiled call (default: 1 CPU, 128 GPU)")
    ] = None,
    posterior: Annotated[
        Path | None, typer.Option(help="draw each run's parameters from this posterior (Parquet)")
    ] = None,
    set_: SetOption = [],  # noqa: B006
    out: Annotated[Path, typer.Option(help="folder for the table, JSON and figure")] = Path(
        "out/ensemble"
    ),
    as_json: JsonOption = False,
    registry: RegistryOption = None,
    workers: WorkersOption = None,
) -> None:
    """Outcome probabilities with 95% intervals, and the spread of sizes, over many runs."""
    from uprising.analysis.metrics import COUNTRY as metrics_names
    from uprising.run.ensemble import ensemble, load_posterior
    from uprising.run.registry import entry
    from uprising.run.simulate import provenance
    from uprising.scenarios.observed import ObservedError, load_observed
    from uprising.viz.ensemble import ensemble_figure

    try:
        overrides = parse_overrides(set_)
        spec = load_scenario(scenario, overrides, variant)
        if not isinstance(spec, CountryScenario):
            raise ScenarioError(
                f"{scenario} is not a country scenario; ensembles classify how uprisings end"
                " (for Epstein scenarios use `uprising sweep`)"
            )
        drawn = load_posterior(posterior) if posterior is not None else None
        if drawn is not None:  # every drawn key must be a valid override before any work
            load_scenario(scenario, overrides | drawn.drop(columns="weight").iloc[0].to_dict())
        observed = None
        if spec.observed:
            folder = scenario_folder(spec, scenario)
            observed = load_observed(folder / spec.observed, [c.name for c in spec.cities])
    except (ScenarioError, ObservedError, ValueError) as e:
        fail(str(e))
        return
    warn_scale(spec)
    side = worker_count(workers, runs, spec)
    stem = spec.name.replace("/", "-")  # a variant's name is scenario/variant
    table = out / f"{stem}-runs.parquet"
    hours = int((spec.end - spec.start).total_seconds() // 3600)

    def register(s: int, row: dict[str, Any], wall: float) -> None:
        params = overrides | {k: v for k, v in row.items() if k not in metrics_names}
        params.pop("seed", None)
        found = {k: row[k] for k in metrics_names}
        record_runs(
            [
                entry(
                    command="ensemble",
                    provenance=provenance(spec, s),
                    variant=variant,
                    params=params,
                    metrics=found,
                    wall_s=wall,
                    result_path=table,
                )
            ],
            registry,
        )

    try:
        with progress_bar(f"{spec.name} x {runs} runs", "run-hours", as_json) as bar:
            task = bar.add_task("runs", total=hours * runs)
            result = ensemble(
                spec,
                runs,
                seed,
                variant=variant,
                batch=batch,
                posterior=drawn,
                table=table,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                done=register,
                workers=side,
            )
    except ValueError as e:
        fail(str(e))
        return
    summary = result.summary() | {"scale_note": spec.scale_note()}
    seen = None if observed is None else observed.sizes()
    if observed is not None:
        summary["observed"] = observed.sizes() | {"outcome": observed.outcome}
    figure = ensemble_figure([result], out / f"{stem}-ensemble.png", seen)
    path = out / f"{stem}-ensemble.json"
    summary["files"] = {"table": str(table), "figure": str(figure), "json": str(path)}
    write_json(path, summary)
    if as_json:
        print_json(summary)
        return
    _print_ensemble(summary)
    warn_scale(spec)  # again, beside the results it qualifies


def _print_ensemble(summary: dict[str, Any]) -> None:
    console = Console()
    title = f"{summary['scenario']} {summary['variant'] or ''} · {summary['runs']} runs"
    table = Table("outcome", "probability", "95% interval", title=title)
    for name, p in summary["probabilities"].items():
        table.add_row(name, f"{p['p']:.3f}", f"[{p['low']:.3f}, {p['high']:.3f}]")
    console.print(table)
    observed = summary.get("observed", {})
    sizes = Table("metric", "5%", "25%", "median", "75%", "95%", "observed")
    for name, q in summary["quantiles"].items():
        seen = observed.get(name)
        cells = [f"{q[k]:,.0f}" for k in ("q05", "q25", "q50", "q75", "q95")]
        sizes.add_row(name, *cells, "" if seen is None else f"{seen:,.0f}")
    console.print(sizes)
    print_files(summary["files"])
