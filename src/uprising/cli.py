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
    seen = None if observed is None else observed.sizes()
    if observed is not None:
        summary["observed"] = observed.sizes() | {"outcome": observed.outcome}
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


def _metrics_text(metrics: Any) -> str:
    """Non-zero metrics, short; NaN (stored as NULL: no outbursts to wait between) as n/a."""
    items = dict(metrics).items()
    return ", ".join(f"{k}={'n/a' if v is None else format(v, '.3g')}" for k, v in items if v != 0)


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
            recorded_at=frame["recorded_at"].astype(str).str[:19],
            wall_s=frame["wall_s"].round(1),
            metrics=frame["metrics"].map(_metrics_text),
        )[["run_id", "recorded_at", "command", "scenario", "variant", "seed", "wall_s", "metrics"]]
    table = Table(*map(str, shown.columns), title=f"{location(registry)} · {len(shown)} rows")
    for row in shown.itertuples(index=False):
        table.add_row(*(str(v) for v in row))
    Console().print(table)


@app.command("sweep")
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
        _fail(str(e))
        return
    label = f"sweep {checked.base.name}: {len(checked.points)} points x {checked.sweep.seeds} seeds"
    try:
        with _progress(label, "runs", as_json) as bar:
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
        _fail(str(e))
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
        sys.stdout.write(json.dumps(summary.as_dict()) + "\n")
        return
    _print_summary({k: v for k, v in summary.as_dict().items() if k != "unregistered"})


@app.command("sensitivity")
def sensitivity_command(
    scenario: Annotated[str, typer.Argument(help="built-in name or path to a TOML file")],
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
    variant: Annotated[str | None, typer.Option(help="a variant of a country scenario")] = None,
    set_: SetOption = [],  # noqa: B006
    out: Annotated[Path, typer.Option(help="folder for the tables, JSON and figure")] = Path(
        "out/sensitivity"
    ),
    as_json: JsonOption = False,
) -> None:
    """Sobol sensitivity (SALib): first and total order indices of the outcome, peak, deaths."""
    from rich.table import Column

    from uprising.analysis import sensitivity
    from uprising.scenarios.observed import ObservedError

    try:
        checked = sensitivity.plan(
            scenario,
            params,
            n,
            metrics=metrics,
            outcome_name=outcome,
            base=_overrides(set_),
            variant=variant,
            seed=seed,
        )
    except (ScenarioError, ObservedError) as e:
        _fail(str(e))
        return
    label = f"{checked.spec.name}: Sobol N={n}, {len(checked.factors)} params"
    with _progress(label, "runs", as_json) as bar:
        task = bar.add_task("runs", total=checked.runs)
        report = sensitivity.execute(
            checked, out, lambda done, total: bar.update(task, completed=done)
        )
    if as_json:
        sys.stdout.write(json.dumps(report) + "\n")
        return
    table = Table(Column("param", overflow="fold"), "metric", "S1", "95%", "ST", "95%", title=label)
    for row in report["indices"]:
        cells = [row[k] for k in ("S1", "S1_conf", "ST", "ST_conf")]
        shown = ["n/a" if v is None else f"{v:.3f}" for v in cells]
        table.add_row(
            row["param"], row["metric"], shown[0], f"±{shown[1]}", shown[2], f"±{shown[3]}"
        )
    Console().print(table)
    for label, path in report["files"].items():
        Console().print(f"{label}: {path}")


@app.command("calibrate")
def calibrate_command(
    scenario: Annotated[str, typer.Argument(help="a country scenario with observed data")],
    params: Annotated[
        str | None,
        typer.Option(
            help="uniform priors, KEY=LOW:HIGH comma-separated (default: police visibility,"
            " news effect, erosion per arrest, Almaty's price sensitivity)"
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
    variant: Annotated[str | None, typer.Option(help="a variant of the scenario")] = None,
    set_: SetOption = [],  # noqa: B006
    out: Annotated[Path, typer.Option(help="folder for the posterior, figure and database")] = Path(
        "out/calibrate"
    ),
    as_json: JsonOption = False,
) -> None:
    """Likelihood-free calibration (pyabc ABC-SMC) against the observed data: a posterior."""
    from rich.table import Column

    from uprising.analysis import calibrate
    from uprising.scenarios.observed import ObservedError

    try:
        checked = calibrate.plan(
            scenario,
            params,
            stats=stats,
            population_size=population_size,
            populations=populations,
            base=_overrides(set_),
            variant=variant,
            seed=seed,
            max_runs=max_runs,
            min_acceptance=min_acceptance,
        )
    except (ScenarioError, ObservedError) as e:
        _fail(str(e))
        return
    label = f"{checked.spec.name}: ABC-SMC {populations} x {population_size}"
    columns = (TextColumn(label), BarColumn(), TextColumn("{task.completed} runs"))
    with Progress(*columns, TimeElapsedColumn(), console=err, transient=as_json) as bar:
        task = bar.add_task("runs", total=None)
        report = calibrate.execute(checked, out, lambda done: bar.update(task, completed=done))
    if as_json:
        sys.stdout.write(json.dumps(report) + "\n")
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
    for label, path in report["files"].items():
        Console().print(f"{label}: {path}")


@app.command("dashboard")
def dashboard_command(
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="port to listen on (0: any free port)")
    ] = 8765,
    host: Annotated[
        str, typer.Option(help="address to bind; anything but loopback exposes it to others")
    ] = "127.0.0.1",
    out: Annotated[
        Path, typer.Option(help="output folder: the only place it writes (one JSON per job)")
    ] = Path("out/dashboard"),
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="open the page in the default browser")
    ] = False,
) -> None:
    """A local web app: move the levers, run, watch the map, calendar, series and grid."""
    from uprising.viz.dashboard import is_loopback, make_server, serve

    if not is_loopback(host):
        err.print(
            f"[yellow]warning:[/] binding to {host}: anyone who can reach this machine can"
            " run simulations on it (there is no login); use 127.0.0.1 unless you mean it",
            highlight=False,
        )
    try:
        server = make_server(host, port, out)
    except OSError as e:
        _fail(f"cannot listen on {host}:{port}: {e.strerror or e}")
        return
    err.print(f"uprising dashboard on [bold]{server.url}[/] (Ctrl-C to stop)", highlight=False)
    serve(server, open_browser)


def _country_spec(scenario: str, overrides: dict[str, Any], command: str) -> CountryScenario:
    """The base country scenario, or an error naming the country scenarios built in."""
    spec = load_scenario(scenario, overrides)
    if not isinstance(spec, CountryScenario):
        countries = [n for n in builtin_names() if isinstance(load_scenario(n), CountryScenario)]
        raise ScenarioError(
            f"{scenario} is an Epstein scenario; `uprising {command}` needs a country scenario"
            f" (one with cities); built in: {', '.join(countries)}"
        )
    return spec


def _variant_names(base: CountryScenario, variant: str | None, variants: str | None) -> list[str]:
    """--variant and --variants (a comma list, or all) as one list, each checked."""
    allowed = sorted(base.variants)
    names = [variant] if variant else []
    if variants is not None:
        listed = [v.strip() for v in variants.split(",") if v.strip()]
        if not listed:
            raise ScenarioError("--variants takes a comma list of variants, or all")
        names += allowed if listed == ["all"] else listed
    for name in names:
        if name not in allowed:
            option = "--variant" if name == variant else "--variants"
            raise ScenarioError(
                f"{option}: {name!r} is not a variant of {base.name}; allowed:"
                f" {', '.join(allowed) or 'none'}" + (" (or --variants all)" if allowed else "")
            )
    return list(dict.fromkeys(names))


def _check_city(spec: CountryScenario, city: str | None) -> None:
    names = [c.name for c in spec.cities]
    if city is not None and city not in names:
        raise ScenarioError(
            f"--city: {city!r} is not a city of {spec.name}; allowed: {', '.join(names)}"
        )


def _stages(quiet: bool) -> Progress:
    """A progress display of several labelled tasks (runs, then figures or frames)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=quiet,
    )


@app.command("report")
def report_command(
    scenario: Annotated[str, typer.Argument(help="a country scenario: name or TOML path")],
    variant: Annotated[
        str | None, typer.Option(help="a variant to show beside the scenario")
    ] = None,
    variants: Annotated[
        str | None, typer.Option(help="more variants beside it: a comma list, or all")
    ] = None,
    runs: Annotated[
        int, typer.Option(min=1, max=10_000, help="runs per scenario (outcome probabilities)")
    ] = 10,
    seed: Annotated[
        int, typer.Option(min=0, help="first seed (then seed+1, ...); figures show this one")
    ] = 0,
    city: Annotated[
        str | None, typer.Option(help="the city whose grid is shown (default: most populous)")
    ] = None,
    set_: SetOption = [],  # noqa: B006
    out: Annotated[Path, typer.Option(help="the HTML file to write")] = Path(
        "out/report/report.html"
    ),
    as_json: JsonOption = False,
) -> None:
    """One self-contained HTML report: scenario, simulated vs observed, outcomes, variants."""
    import shlex

    from uprising.scenarios.observed import ObservedError, load_observed
    from uprising.viz.report import report

    try:
        overrides = _overrides(set_)
        if out.suffix.lower() not in (".html", ".htm"):
            raise ScenarioError(
                f"--out {str(out)!r}: unsupported suffix {out.suffix or '(none)'!r};"
                " allowed: .html, .htm"
            )
        spec = _country_spec(scenario, overrides, "report")
        names = _variant_names(spec, variant, variants)
        others = {}
        for name in names:
            one = load_scenario(scenario, overrides, name)
            assert isinstance(one, CountryScenario)
            others[name] = one
        _check_city(spec, city)
        folder = scenario_folder(spec, scenario)
        if spec.observed:
            load_observed(folder / spec.observed, [c.name for c in spec.cities])
    except (ScenarioError, ObservedError) as e:
        _fail(str(e))
        return
    command = ["uprising", "report", scenario]
    command += ["--variants", ",".join(names)] if names else []
    command += ["--runs", str(runs), "--seed", str(seed)]
    command += ["--city", city] if city else []
    for pair in set_:
        command += ["--set", pair]
    command += ["--out", str(out)]
    started = time.perf_counter()
    with _stages(as_json) as bar:
        tasks: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                label = {"runs": f"{spec.name}: {runs} runs x {1 + len(names)}, run-hours"}
                tasks[stage] = bar.add_task(label.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        path = report(
            spec,
            others,
            runs,
            seed,
            out,
            folder=folder,
            watch=city,
            command=shlex.join(command),
            progress=progress,
        )
    html = path.read_text(encoding="utf-8")
    summary: dict[str, Any] = {
        "scenario": spec.name,
        "variants": names,
        "runs": runs,
        "seeds": [seed, seed + runs - 1],
        "figures": html.count("data:image/png;base64,"),
        "bytes": path.stat().st_size,
        "wall_s": round(time.perf_counter() - started, 1),
        "file": str(path),
    }
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
        return
    Console().print(
        f"report: {path} ({summary['bytes'] / 1e6:.1f} MB, {summary['figures']} figures)"
    )


@app.command("animate")
def animate_command(
    scenario: Annotated[str, typer.Argument(help="a country scenario: name or TOML path")],
    variant: Annotated[str | None, typer.Option(help="a variant of the scenario")] = None,
    seed: Annotated[int, typer.Option(min=0, help="random seed")] = 0,
    city: Annotated[
        str | None, typer.Option(help="the city whose grid is shown (default: most populous)")
    ] = None,
    every: Annotated[int, typer.Option(min=1, help="hours between frames")] = 3,
    fps: Annotated[int, typer.Option(min=1, max=60, help="frames per second")] = 6,
    dpi: Annotated[int, typer.Option(min=30, max=300, help="pixels per inch (10 x 5.6 in)")] = 100,
    set_: SetOption = [],  # noqa: B006
    out: Annotated[
        Path, typer.Option(help="the file to write: .gif, or .mp4 where ffmpeg is on PATH")
    ] = Path("out/animate/run.gif"),
    as_json: JsonOption = False,
) -> None:
    """Animate one run: the map of cities and one city's grid, frame by frame over the calendar."""
    from uprising.run.country import simulate_country
    from uprising.viz.animate import (
        AnimationError,
        check_output,
        frame_hours,
        largest_city,
        write_animation,
    )

    try:
        check_output(out)
        spec = _country_spec(scenario, _overrides(set_), "animate")
        if variant is not None:
            _variant_names(spec, variant, None)
            one = load_scenario(scenario, _overrides(set_), variant)
            assert isinstance(one, CountryScenario)
            spec = one
        _check_city(spec, city)
    except (ScenarioError, AnimationError) as e:
        _fail(str(e))
        return
    watch = city or largest_city(spec)
    folder = scenario_folder(spec, scenario)
    hours = int((spec.end - spec.start).total_seconds() // 3600)
    frames = len(frame_hours(hours, every))
    started = time.perf_counter()
    with _stages(as_json) as bar:
        run = bar.add_task(f"{spec.name} seed {seed} (watching {watch}), hours", total=hours)
        ds = simulate_country(
            spec, seed, lambda done, total: bar.update(run, completed=done), watch=watch
        )
        drawn = bar.add_task(f"frames every {every} h", total=frames)
        path = write_animation(
            ds,
            spec,
            out,
            outline=folder / spec.outline if spec.outline else None,
            every=every,
            fps=fps,
            dpi=dpi,
            progress=lambda done, total: bar.update(drawn, completed=done, total=total),
        )
    summary: dict[str, Any] = {
        "scenario": spec.name,
        "seed": seed,
        "city": watch,
        "hours": hours,
        "every": every,
        "frames": frames,
        "fps": fps,
        "bytes": path.stat().st_size,
        "wall_s": round(time.perf_counter() - started, 1),
        "file": str(path),
    }
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
        return
    Console().print(f"animation: {path} ({summary['bytes'] / 1e6:.1f} MB, {frames} frames)")


if __name__ == "__main__":
    app()
