"""`uprising sensitivity` and `uprising calibrate`: which parameters matter, and what fits."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

from uprising.cli.common import err, fail, parse_overrides, print_files, print_json, progress_bar
from uprising.cli.options import (
    JsonOption,
    ScenarioArgument,
    ScenarioVariantOption,
    SetOption,
    VariantOption,
)
from uprising.scenarios.load import ScenarioError


def sensitivity_command(
    scenario: ScenarioArgument,
    params: Annotated[
        str,
        typer.Option(
            help="parameters to vary, comma-separated: KEY=LOW:HIGH, or KEY alone for the"
            " scenario's value x0.5..x1.5 (clipped to what the schema allows)"
        ),
    ],
    n: Annotated[
        int, typer.Option("--n", help="Sobol base points, a power of two: N x (params + 2) runs")
    ] = 16,
    outcome: Annotated[
        str | None,
        typer.Option(help="outcome whose indicator is analysed (default: the observed one)"),
    ] = None,
    metrics: Annotated[
        str | None,
        typer.Option(help="metrics beside the outcome, comma-separated (default: peak, deaths)"),
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="seed of the design and of the runs")] = 0,
    variant: VariantOption = None,
    set_: SetOption = [],  # noqa: B006
    out: Annotated[Path, typer.Option(help="folder for the tables, JSON and figure")] = Path(
        "out/sensitivity"
    ),
    as_json: JsonOption = False,
) -> None:
    """Sobol sensitivity (SALib): first and total order indices of the outcome, peak, deaths."""
    from uprising.analysis import sensitivity
    from uprising.scenarios.observed import ObservedError

    try:
        checked = sensitivity.plan(
            scenario,
            params,
            n,
            metrics=metrics,
            outcome_name=outcome,
            base=parse_overrides(set_),
            variant=variant,
            seed=seed,
        )
    except (ScenarioError, ObservedError) as e:
        fail(str(e))
        return
    label = f"{checked.spec.name}: Sobol N={n}, {len(checked.factors)} params"
    with progress_bar(label, "runs", as_json) as bar:
        task = bar.add_task("runs", total=checked.runs)
        report = sensitivity.execute(
            checked, out, lambda done, total: bar.update(task, completed=done)
        )
    if as_json:
        print_json(report)
        return
    table = Table(Column("param", overflow="fold"), "metric", "S1", "95%", "ST", "95%", title=label)
    for row in report["indices"]:
        cells = [row[k] for k in ("S1", "S1_conf", "ST", "ST_conf")]
        shown = ["n/a" if v is None else f"{v:.3f}" for v in cells]
        table.add_row(
            row["param"], row["metric"], shown[0], f"±{shown[1]}", shown[2], f"±{shown[3]}"
        )
    Console().print(table)
    print_files(report["files"])


def calibrate_command(
    scenario: Annotated[str, typer.Argument(help="a country scenario with observed data")],
    params: Annotated[
        str | None,
        typer.Option(
            help="uniform priors, KEY=LOW:HIGH comma-separated (default: police visibility,"
            " arrest rate, erosion per arrest, Almaty's price sensitivity)"
        ),
    ] = None,
    populations: Annotated[
        int, typer.Option(min=2, max=1000, help="ABC-SMC populations, the prior's included")
    ] = 4,
    population_size: Annotated[
        int, typer.Option(min=2, max=1_000_000, help="accepted runs per population")
    ] = 40,
    stats: Annotated[
        str | None,
        typer.Option(help="summary statistics: onsets,sizes,seizures,outcome (default: all)"),
    ] = None,
    max_runs: Annotated[
        int | None, typer.Option(min=1, help="stop after the population that passes this many runs")
    ] = None,
    min_acceptance: Annotated[
        float,
        typer.Option(help="stop (dropping it) at a population that accepts fewer of its runs"),
    ] = 0.0,
    seed: Annotated[int, typer.Option(min=0, help="seed of pyabc's sampling and the runs")] = 0,
    variant: ScenarioVariantOption = None,
    set_: SetOption = [],  # noqa: B006
    out: Annotated[Path, typer.Option(help="folder for the posterior, figure and database")] = Path(
        "out/calibrate"
    ),
    as_json: JsonOption = False,
) -> None:
    """Likelihood-free calibration (pyabc ABC-SMC) against the observed data: a posterior."""
    from uprising.analysis import calibrate
    from uprising.scenarios.observed import ObservedError

    try:
        checked = calibrate.plan(
            scenario,
            params,
            stats=stats,
            population_size=population_size,
            populations=populations,
            base=parse_overrides(set_),
            variant=variant,
            seed=seed,
            max_runs=max_runs,
            min_acceptance=min_acceptance,
        )
    except (ScenarioError, ObservedError) as e:
        fail(str(e))
        return
    label = f"{checked.spec.name}: ABC-SMC {populations} x {population_size}"
    columns = (TextColumn(label), BarColumn(), TextColumn("{task.completed} runs"))
    with Progress(*columns, TimeElapsedColumn(), console=err, transient=as_json) as bar:
        task = bar.add_task("runs", total=None)
        report = calibrate.execute(checked, out, lambda done: bar.update(task, completed=done))
    if as_json:
        print_json(report)
        return
    names = ("scenario", "mean", "sd", "5%", "50%", "95%")
    table = Table(Column("param", overflow="fold"), "prior", *names, title=label)
    for row in report["posterior"]:
        table.add_row(
            row["param"],
            f"{row['prior_low']:.3g}..{row['prior_high']:.3g}",
            *(f"{row[k]:.3g}" for k in ("scenario", "mean", "sd", "q05", "q50", "q95")),
        )
    Console().print(table)
    steps = ", ".join(
        f"t{p['t']}: epsilon {'inf' if p['epsilon'] is None else format(p['epsilon'], '.3g')},"
        f" {p['runs']} runs"
        for p in report["populations"]
    )
    Console().print(f"{report['runs']} runs ({steps})", highlight=False)
    print_files(report["files"])
