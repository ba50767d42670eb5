"""`uprising run`: one run of either kind of scenario, its figures, and its registry entry."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from uprising.cli.common import (
    country_figures,
    fail,
    parse_overrides,
    print_json,
    print_summary,
    progress_bar,
    record_runs,
    warn_scale,
)
from uprising.cli.options import (
    JsonOption,
    RegistryOption,
    ScenarioArgument,
    SetOption,
    VariantOption,
)
from uprising.scenarios.country import CountryScenario
from uprising.scenarios.load import ScenarioError, load_scenario, scenario_folder


def _show(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(summary)
    else:
        print_summary(summary)


def _register_run(
    ds: Any,
    spec: Any,
    variant: str | None,
    overrides: dict[str, Any],
    wall: float,
    result: str | None,
    registry: Path | None,
) -> None:
    from uprising.analysis import metrics
    from uprising.run.registry import entry
    from uprising.run.simulate import provenance_of

    found = (
        metrics.country(ds, spec.capital)
        if isinstance(spec, CountryScenario)
        else metrics.epstein(ds)
    )
    row = entry(
        command="run",
        provenance=provenance_of(ds),
        variant=variant,
        params=overrides,
        metrics=found,
        wall_s=wall,
        result_path=result,
    )
    record_runs([row], registry)


def _run_country(
    spec: CountryScenario, folder: Path, seed: int, out: Path | None, as_json: bool
) -> tuple[Any, dict[str, Any]]:
    from uprising.run.country import simulate_country, summarize_country
    from uprising.run.results import write_timeseries

    with progress_bar(f"{spec.name} seed {seed}", "hours", as_json) as bar:
        task = bar.add_task("run", total=int((spec.end - spec.start).total_seconds() // 3600))
        ds = simulate_country(
            spec, seed=seed, progress=lambda done, total: bar.update(task, completed=done)
        )
    summary = summarize_country(ds, spec.capital)
    if out is not None:
        stem = f"{spec.name.replace('/', '-')}-seed{seed}"
        summary["files"] = {
            "timeseries": str(write_timeseries(ds, out / f"{stem}.parquet")),
            **country_figures(ds, spec, folder, out, stem),
        }
    _show(summary, as_json)
    return ds, summary


def run_command(
    scenario: ScenarioArgument,
    rules: Annotated[str | None, typer.Option(help="paper | netlogo | mesa")] = None,
    steps: Annotated[
        int | None, typer.Option(min=1, help="steps to run (default: scenario's)")
    ] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    variant: VariantOption = None,
    set_: SetOption = [],  # noqa: B006
    out: Annotated[
        Path | None, typer.Option(help="folder for the Parquet series and figures")
    ] = None,
    as_json: JsonOption = False,
    registry: RegistryOption = None,
) -> None:
    """Run a scenario once: time series, outbursts or the country's uprising, figures."""
    from uprising.run.results import write_timeseries
    from uprising.run.simulate import simulate, summarize
    from uprising.viz import figures

    try:
        overrides = parse_overrides(set_)
        if rules is not None:
            overrides["rules"] = rules
        if steps is not None:
            overrides["steps"] = steps
        spec = load_scenario(scenario, overrides, variant)
        if isinstance(spec, CountryScenario) and steps is not None:
            raise ScenarioError(
                "a country scenario runs its calendar: use --set end=... not --steps"
            )
    except ScenarioError as e:
        fail(str(e))
        return
    warn_scale(spec)
    started = time.perf_counter()
    if isinstance(spec, CountryScenario):
        ds, summary = _run_country(spec, scenario_folder(spec, scenario), seed, out, as_json)
        wall = time.perf_counter() - started
        result = summary.get("files", {}).get("timeseries")
        _register_run(ds, spec, variant, overrides, wall, result, registry)
        return
    with progress_bar(f"{spec.name} [{spec.rules}] seed {seed}", "steps", as_json) as bar:
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
    _show(summary, as_json)
    result = summary.get("files", {}).get("timeseries")
    _register_run(ds, spec, variant, overrides, time.perf_counter() - started, result, registry)
