"""The command line: `uprising scenarios`, `uprising run SCENARIO ...`, `uprising compare ...`."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from uprising.scenarios.country import CountryScenario
from uprising.scenarios.load import ScenarioError, builtin_names, load_scenario, scenario_folder

SetOption = Annotated[
    list[str], typer.Option("--set", help="override a parameter: KEY=VALUE (dotted keys reach in)")
]
JsonOption = Annotated[bool, typer.Option("--json", help="print one JSON object on stdout")]
RegistryOption = Annotated[
    Path | None,
    typer.Option(help="run registry file (default $UPRISING_REGISTRY or uprising-runs/)"),
]

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


def _record(rows: list[dict[str, Any]], registry: Path | None) -> None:
    """Runs into the registry; a busy or unwritable registry is a warning, never a lost run."""
    from uprising.run.registry import RegistryError, record

    try:
        record(rows, registry)
    except (RegistryError, OSError) as e:
        err.print(f"[yellow]warning:[/] run not registered: {e}", highlight=False)


@app.command()
def scenarios() -> None:
    """List the built-in scenarios."""
    table = Table("name", "rules", "size", "length", "variants", "description")
    for name in builtin_names():
        s = load_scenario(name)
        if isinstance(s, CountryScenario):
            hours = int((s.end - s.start).total_seconds() // 3600)
            size, length = f"{len(s.cities)} cities", f"{hours} hours"
            variants = ", ".join(s.variants)
        else:
            size, length, variants = f"{s.world.height}x{s.world.width}", f"{s.steps} steps", ""
        table.add_row(name, s.rules, size, length, variants, s.description)
    Console().print(table)


def _progress(label: str, unit: str, quiet: bool) -> Progress:
    return Progress(
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} " + unit),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=quiet,
    )


def _print_summary(summary: dict[str, Any]) -> None:
    table = Table("", "", show_header=False)
    for key, value in summary.items():
        if key != "files":
            table.add_row(key, str(value))
    Console().print(table)
    for label, path in summary.get("files", {}).items():
        Console().print(f"{label}: {path}")


def _country_figures(
    ds: Any, spec: CountryScenario, folder: Path, out: Path, stem: str
) -> dict[str, str]:
    from uprising.scenarios.observed import load_observed
    from uprising.viz import country as country_figures

    files = {}
    if spec.outline:
        files["map"] = str(
            country_figures.map_by_day(ds, folder / spec.outline, out / f"{stem}-map.png")
        )
    observed = (
        load_observed(folder / spec.observed, [c.name for c in spec.cities])
        if spec.observed
        else None
    )
    files["timelines"] = str(
        country_figures.city_timelines(ds, observed, out / f"{stem}-cities.png")
    )
    return files


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
    _record([row], registry)


def _run_country(
    spec: CountryScenario, folder: Path, seed: int, out: Path | None, as_json: bool
) -> tuple[Any, dict[str, Any]]:
    from uprising.run.country import simulate_country, summarize_country
    from uprising.run.results import write_timeseries

    with _progress(f"{spec.name} seed {seed}", "hours", as_json) as bar:
        task = bar.add_task("run", total=int((spec.end - spec.start).total_seconds() // 3600))
        ds = simulate_country(
            spec, seed=seed, progress=lambda done, total: bar.update(task, completed=done)
        )
    summary = summarize_country(ds, spec.capital)
    if out is not None:
        stem = f"{spec.name.replace('/', '-')}-seed{seed}"
        summary["files"] = {
            "timeseries": str(write_timeseries(ds, out / f"{stem}.parquet")),
            **_country_figures(ds, spec, folder, out, stem),
        }
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
    else:
        _print_summary(summary)
    return ds, summary


@app.command("run")
def run_command(
    scenario: Annotated[str, typer.Argument(help="built-in name or path to a TOML file")],
    rules: Annotated[str | None, typer.Option(help="paper | netlogo | mesa")] = None,
    steps: Annotated[
        int | None, typer.Option(min=1, help="steps to run (default: scenario's)")
    ] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    variant: Annotated[str | None, typer.Option(help="a variant of a country scenario")] = None,
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
        overrides = _overrides(set_)
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
        _fail(str(e))
        return
    started = time.perf_counter()
    if isinstance(spec, CountryScenario):
        ds, summary = _run_country(spec, scenario_folder(spec, scenario), seed, out, as_json)
        wall = time.perf_counter() - started
        result = summary.get("files", {}).get("timeseries")
        _register_run(ds, spec, variant, overrides, wall, result, registry)
        return
    with _progress(f"{spec.name} [{spec.rules}] seed {seed}", "steps", as_json) as bar:
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
    else:
        _print_summary(summary)
    result = summary.get("files", {}).get("timeseries")
    _register_run(ds, spec, variant, overrides, time.perf_counter() - started, result, registry)


@app.command("compare")
def compare_command(
    scenario: Annotated[str, typer.Argument(help="a country scenario: name or TOML path")],
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
) -> None:
    """Simulated against observed: per city, nationally, calibration targets, one score."""
    from uprising.analysis.compare import compare, ensemble
    from uprising.run.country import simulate_country
    from uprising.run.simulate import package_version
    from uprising.scenarios.observed import ObservedError, load_observed

    try:
        overrides = _overrides(set_)
        specs = [load_scenario(scenario, overrides)]
        if variant is not None:
            specs.append(load_scenario(scenario, overrides, variant))
        if not isinstance(specs[0], CountryScenario) or not specs[0].observed:
            raise ScenarioError(f"{scenario} is not a country scenario with observed data")
        folder = scenario_folder(specs[0], scenario)
        observed = load_observed(folder / specs[0].observed, [c.name for c in specs[0].cities])
    except (ScenarioError, ObservedError) as e:
        _fail(str(e))
        return
    results: dict[str, Any] = {}
    files: dict[str, str] = {}
    for spec in specs:
        assert isinstance(spec, CountryScenario)
        hours = int((spec.end - spec.start).total_seconds() // 3600)
        per_run = []
        with _progress(f"{spec.name} x {runs} runs", "hours", as_json) as bar:
            task = bar.add_task("runs", total=hours * runs)
            for i, s in enumerate(range(seed, seed + runs)):

                def advance(done: int, _: int, base: int = i * hours, t: Any = task) -> None:
                    bar.update(t, completed=base + done)

                ds = simulate_country(spec, seed=s, progress=advance)
                per_run.append(compare(ds, observed, spec.capital))
                if i == 0:
                    stem = f"{spec.name.replace('/', '-')}-seed{s}"
                    files.update(
                        {
                            f"{spec.name} {k}": v
                            for k, v in _country_figures(ds, spec, folder, out, stem).items()
                        }
                    )
        results[spec.name] = {"scenario_hash": spec.digest(), **ensemble(per_run)}
    report: dict[str, Any] = {
        "scenario": specs[0].name,
        "variant": variant,
        "runs": runs,
        "seeds": [seed, seed + runs - 1],
        "people_per_agent": specs[0].people_per_agent,
        "version": package_version(),
        "results": results,
        "files": files,
    }
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{specs[0].name}-compare.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=1))
    tmp.replace(path)
    report["files"]["json"] = str(path)
    if as_json:
        sys.stdout.write(json.dumps(report) + "\n")
        return
    _print_compare(report)


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
    for label, path in report["files"].items():
        console.print(f"{label}: {path}")


@app.command("ensemble")
def ensemble_command(
    scenario: Annotated[str, typer.Argument(help="a country scenario: name or TOML path")],
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
) -> None:
    """Outcome probabilities with 95% intervals, and the spread of sizes, over many runs."""
    from uprising.analysis.metrics import COUNTRY as metrics_names
    from uprising.run.ensemble import ensemble, load_posterior
    from uprising.run.registry import entry
    from uprising.run.simulate import provenance
    from uprising.scenarios.observed import ObservedError, load_observed
    from uprising.viz.ensemble import ensemble_figure

    try:
        overrides = _overrides(set_)
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
        _fail(str(e))
        return
    stem = spec.name.replace("/", "-")  # a variant's name is scenario/variant
    table = out / f"{stem}-runs.parquet"
    hours = int((spec.end - spec.start).total_seconds() // 3600)

    def register(s: int, row: dict[str, Any], wall: float) -> None:
        params = overrides | {k: v for k, v in row.items() if k not in metrics_names}
        params.pop("seed", None)
        found = {k: row[k] for k in metrics_names}
        _record(
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
        with _progress(f"{spec.name} x {runs} runs", "run-hours", as_json) as bar:
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
            )
    except ValueError as e:
        _fail(str(e))
        return
    summary = result.summary()
    seen = None
    if observed is not None:
        seen = {
            "peak_active": observed.peak_participants,
            "deaths": observed.deaths,
            "detentions": observed.detentions,
        }
        summary["observed"] = seen | {"outcome": observed.outcome}
    figure = ensemble_figure([result], out / f"{stem}-ensemble.png", seen)
    path = out / f"{stem}-ensemble.json"
    summary["files"] = {"table": str(table), "figure": str(figure), "json": str(path)}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(summary, indent=1))
    tmp.replace(path)
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
        return
    _print_ensemble(summary)


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
    for label, path in summary["files"].items():
        console.print(f"{label}: {path}")


@app.command("runs")
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
        _fail(str(e))
        return
    if as_json:
        sys.stdout.write(frame.to_json(orient="records", date_format="iso") + "\n")
        return
    shown = frame
    if sql is None:
        shown = frame.assign(
            run_id=frame["run_id"].str[:8],
            metrics=frame["metrics"].map(
                lambda m: ", ".join(f"{k}={v:.3g}" for k, v in dict(m).items())[:60]
            ),
        )[["run_id", "recorded_at", "command", "scenario", "variant", "seed", "wall_s", "metrics"]]
    table = Table(*map(str, shown.columns), title=f"{location(registry)} · {len(shown)} rows")
    for row in shown.itertuples(index=False):
        table.add_row(*(str(v) for v in row))
    Console().print(table)


if __name__ == "__main__":
    app()
