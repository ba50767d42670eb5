"""`uprising dashboard`, `report` and `animate`: a country scenario shown to people."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from uprising.cli.common import err, fail, parse_overrides, print_json, warn_scale
from uprising.cli.options import (
    CityOption,
    CountryArgument,
    JsonOption,
    ScenarioVariantOption,
    SetOption,
)
from uprising.scenarios.country import CountryScenario
from uprising.scenarios.load import ScenarioError, builtin_names, load_scenario, scenario_folder


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
        fail(f"cannot listen on {host}:{port}: {e.strerror or e}")
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
    warn_scale(spec)
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


def _written(path: Path, started: float) -> dict[str, Any]:
    """The end of a summary: the file's size, the time it took, the file."""
    return {
        "bytes": path.stat().st_size,
        "wall_s": round(time.perf_counter() - started, 1),
        "file": str(path),
    }


def report_command(
    scenario: CountryArgument,
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
    city: CityOption = None,
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
        overrides = parse_overrides(set_)
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
        fail(str(e))
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
        **_written(path, started),
    }
    if as_json:
        print_json(summary)
        return
    Console().print(
        f"report: {path} ({summary['bytes'] / 1e6:.1f} MB, {summary['figures']} figures)"
    )


def animate_command(
    scenario: CountryArgument,
    variant: ScenarioVariantOption = None,
    seed: Annotated[int, typer.Option(min=0, help="random seed")] = 0,
    city: CityOption = None,
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
        spec = _country_spec(scenario, parse_overrides(set_), "animate")
        if variant is not None:
            _variant_names(spec, variant, None)
            one = load_scenario(scenario, parse_overrides(set_), variant)
            assert isinstance(one, CountryScenario)
            spec = one
        _check_city(spec, city)
    except (ScenarioError, AnimationError) as e:
        fail(str(e))
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
        **_written(path, started),
    }
    if as_json:
        print_json(summary)
        return
    Console().print(f"animation: {path} ({summary['bytes'] / 1e6:.1f} MB, {frames} frames)")
