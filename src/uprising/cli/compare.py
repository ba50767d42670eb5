"""`uprising compare`: a country scenario, and a variant, scored against what was observed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from uprising.cli.common import (
    country_figures,
    fail,
    parse_overrides,
    print_files,
    print_json,
    progress_bar,
    warn_scale,
    worker_count,
    write_json,
)
from uprising.cli.options import CountryArgument, JsonOption, SetOption, WorkersOption
from uprising.scenarios.country import CountryScenario
from uprising.scenarios.load import ScenarioError, load_scenario, scenario_folder


def compare_command(
    scenario: CountryArgument,
    variant: Annotated[
        str | None, typer.Option(help="also run this variant, beside the scenario itself")
    ] = None,
    runs: Annotated[int, typer.Option(min=1, max=10_000, help="seeds per scenario")] = 10,
    seed: Annotated[int, typer.Option(help="first seed (then seed+1, ...)")] = 0,
    set_: SetOption = [],  # noqa: B006
    out: Annotated[Path, typer.Option(help="folder for figures and the JSON")] = Path(
        "out/compare"
    ),
    as_json: JsonOption = False,
    workers: WorkersOption = None,
) -> None:
    """Simulated against observed: per city, nationally, calibration targets, one score.

    Finished runs are kept in OUT/runs/: run again, and only the missing ones run."""
    from uprising.analysis.compare import ensemble
    from uprising.analysis.paired import paired
    from uprising.run import cores
    from uprising.run.scored import Record, scored_runs
    from uprising.run.simulate import package_version
    from uprising.scenarios.observed import ObservedError, load_observed

    try:
        overrides = parse_overrides(set_)
        specs = [load_scenario(scenario, overrides)]
        if variant is not None:
            specs.append(load_scenario(scenario, overrides, variant))
        if not isinstance(specs[0], CountryScenario) or not specs[0].observed:
            raise ScenarioError(f"{scenario} is not a country scenario with observed data")
        folder = scenario_folder(specs[0], scenario)
        observed = load_observed(folder / specs[0].observed, [c.name for c in specs[0].cities])
    except (ScenarioError, ObservedError) as e:
        fail(str(e))
        return
    warn_scale(specs[0])
    side = worker_count(workers, runs, specs[0])
    results: dict[str, Any] = {}
    files: dict[str, str] = {}
    runs_of: list[list[dict[str, Any]]] = []
    seeds = list(range(seed, seed + runs))
    for spec in specs:
        assert isinstance(spec, CountryScenario)
        hours = int((spec.end - spec.start).total_seconds() // 3600)

        def draw(ds: Any, spec: CountryScenario = spec) -> None:
            made = country_figures(
                ds, spec, folder, out, f"{spec.name.replace('/', '-')}-seed{seed}"
            )
            files.update({f"{spec.name} {k}": v for k, v in made.items()})

        label = f"{spec.name} x {runs} runs" + (f", {side} side by side" if side > 1 else "")
        with progress_bar(label, "hours", as_json) as bar:
            task = bar.add_task("runs", total=hours * runs)

            def show(done: int, t: Any = task) -> None:
                bar.update(t, completed=done)

            advance = cores.summed(show)
            record = Record(out, spec, observed)
            per_run = scored_runs(spec, observed, seeds, record, side, advance, draw)
        files[f"{spec.name} runs"] = str(record.path)
        results[spec.name] = {"scenario_hash": spec.digest(), **ensemble(per_run)}
        runs_of.append(per_run)
    report: dict[str, Any] = {
        "scenario": specs[0].name,
        "variant": variant,
        "runs": runs,
        "seeds": [seed, seed + runs - 1],
        "people_per_agent": specs[0].people_per_agent,
        "scale_note": specs[0].scale_note(),
        "version": package_version(),
        "results": results,
        # Seed for seed, the variant shares the base's random numbers: the change alone.
        "paired": paired(*runs_of) if variant is not None else None,
        "files": files,
    }
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{specs[0].name}-compare.json"
    write_json(path, report)
    report["files"]["json"] = str(path)
    if as_json:
        print_json(report)
        return
    _print_compare(report)
    warn_scale(specs[0])  # again, beside the results it qualifies


def _print_compare(report: dict[str, Any]) -> None:
    console = Console()
    names = list(report["results"])
    table = Table("target (share of runs, 95% CI)", *names)
    first = report["results"][names[0]]
    for key in list(first["targets"]) + list(first["outcomes"]):
        cells = []
        for name in names:
            block = report["results"][name]
            v = block["targets"].get(key) or block["outcomes"][key]
            cells.append(f"{v['fraction']:.2f} [{v['low']:.2f}, {v['high']:.2f}]")
        table.add_row(key, *cells)
    scores = [report["results"][n]["score"] for n in names]
    table.add_row("score (mean ± sd)", *[f"{s['mean']:.3f} ± {s['sd']:.3f}" for s in scores])
    for key in ("peak_participants", "deaths", "detentions"):
        table.add_row(
            f"{key} (median; observed {first['observed'][key]:,.0f})",
            *[f"{report['results'][n]['national'][key]:,.0f}" for n in names],
        )
    console.print(table)
    cities = Table(
        "city", "observed onset h", "median onset h", "risen", "observed seized", "seized"
    )
    for city, row in first["cities"].items():
        cities.add_row(
            city,
            str(row.get("observed_onset_hour", "")),
            str(row["median_onset_hour"]),
            f"{row['risen']:.2f}",
            str(row.get("observed_seized", "")),
            f"{row['seized']:.2f}",
        )
    console.print(cities)
    if report["paired"]:
        _print_paired(report)
    print_files(report["files"])


def _print_paired(report: dict[str, Any]) -> None:
    """The variant against the base, seed for seed: outcomes, then sizes."""
    block = report["paired"]
    n = block["pairs"]
    title = f"{report['variant']} against the base, seed for seed ({n} pairs)"
    outcomes = Table(
        "outcome", "base", "variant", "base only", "variant only", "p (McNemar)", title=title
    )
    for name, row in block["outcomes"].items():
        outcomes.add_row(
            name,
            f"{row['base']} of {n}",
            f"{row['variant']} of {n}",
            str(row["only_base"]),
            str(row["only_variant"]),
            f"{row['p_value']:.2g}",
        )
    sizes = Table("variant - base", "median", "95% CI", "up", "down", "tied", "p (sign)")
    for key, row in block["sizes"].items():
        sizes.add_row(
            key,
            f"{row['median_difference']:+,.0f}",
            "n/a (< 6 pairs)"
            if row["low"] is None
            else f"{row['low']:+,.0f} .. {row['high']:+,.0f}",
            str(row["rose"]),
            str(row["fell"]),
            str(row["tied"]),
            f"{row['p_value']:.2g}",
        )
    console = Console()
    console.print(outcomes)
    console.print(sizes)
