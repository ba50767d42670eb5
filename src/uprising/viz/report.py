"""One self-contained HTML report of a country scenario: what it is, what it gives, what happened.

The report runs the scenario (and any variants) a few times, compares every run with the observed
facts (`analysis.compare`), and writes one HTML file: the scenario and its calendar, simulated
beside observed (national sizes, per city, the calibration targets with 95% intervals, the
score), how the runs end (outcome probabilities), the variants side by side, and per scenario the
first run's city timelines, map by day and one city's grid. Figures are PNGs embedded as base64
data URIs and the style sheet is inline: the file loads nothing and opens offline.

The model's sizes are only roughly calibrated (docs/calibration.md: the peak of the observed
order, detentions and deaths several times the observed); the report puts the observed number
beside every simulated one and says so at the top rather than hiding it. A run at another scale
than the scenario's fit is flagged at the top too.
"""

from __future__ import annotations

import base64
import html
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import jax
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib import colormaps
from matplotlib.figure import Figure

from uprising.analysis import metrics, outcome
from uprising.analysis.compare import TARGETS, compare, wilson
from uprising.run.api import default_batch
from uprising.run.country import simulate_countries, summarize_country
from uprising.run.ensemble import Ensemble
from uprising.run.simulate import package_version
from uprising.scenarios.country import CountryScenario
from uprising.scenarios.observed import Observed, load_observed
from uprising.viz import animate
from uprising.viz import country as country_figures
from uprising.viz.ensemble import ensemble_figure

Stage = Callable[[str, int, int], None]
"""progress(stage, done, total): stage 'runs' (run-hours) or 'figures'."""

TARGET_RULES = {
    "mangystau_first": "Zhanaozen or Aktau rises first (share active >= 2%), within 1-2 January",
    "west_follows": "Atyrau, Aktobe and Oral all rise within 36 hours of Mangystau's first",
    "almaty_peaks_jan_4_5": "Almaty's hour of most actives falls on 4 or 5 January",
    "almaty_centre_lost": "protesters hold Almaty's centre at some hour",
    "capital_holds": "the capital's centre is never held",
    "suppressed_by_jan_11": "ends suppressed, national actives at most 10% of peak by 11 January",
}
SIZES = (
    ("peak_active", "peak_participants", "peak participants (national)"),
    ("deaths", "deaths", "deaths"),
    ("detentions", "detentions", "detentions (a person arrested twice counts twice)"),
)
ENSEMBLE_PER_FIGURE = 4
"""ensemble_figure draws up to four ensembles; more variants make more figures."""


@dataclass
class Arm:
    """One scenario (the base or a variant) over the report's seeds."""

    label: str
    variant: str | None
    spec: CountryScenario
    first: xr.Dataset
    rows: list[dict[str, float]] = field(default_factory=list)
    compared: list[dict[str, Any]] = field(default_factory=list)
    series: dict[str, list[np.ndarray]] = field(default_factory=dict)

    @property
    def runs(self) -> int:
        return len(self.rows)

    def ensemble(self) -> Ensemble:
        table = pd.DataFrame(self.rows)
        return Ensemble(self.spec.name, self.variant, self.spec.digest(), table)

    def band(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """5%, 50% and 95% over runs, hour by hour."""
        values = np.stack(self.series[name])
        low, mid, high = np.quantile(values, [0.05, 0.5, 0.95], axis=0)
        return low, mid, high


def _hours(spec: CountryScenario) -> int:
    return int((spec.end - spec.start).total_seconds() // 3600)


def _series(ds: xr.Dataset) -> dict[str, np.ndarray]:
    per = float(ds.attrs["people_per_agent"])
    return {
        "active": ds["active"].values.sum(axis=1) * per,
        "deaths": ds["deaths"].values.sum(axis=1) * per,
        "detentions": ds["arrests"].values.sum(axis=1) * per,
        "held": ds["held"].values.astype(bool).sum(axis=1).astype(float),
    }


def run_arm(
    spec: CountryScenario,
    variant: str | None,
    seeds: Sequence[int],
    watch: str,
    observed: Observed | None,
    progress: Callable[[int], None] | None = None,
) -> Arm:
    """Every seed of one scenario: metrics, comparison with what happened, national series."""
    hours, batch = _hours(spec), default_batch()
    arm: Arm | None = None
    for first in range(0, len(seeds), batch):
        chunk = list(seeds[first : first + batch])

        def advance(done: int, _: int, before: int = first, n: int = len(chunk)) -> None:
            if progress:
                progress(before * hours + done * n)

        for s, ds in zip(chunk, simulate_countries(spec, chunk, advance, watch), strict=True):
            if arm is None:
                arm = Arm(variant or spec.name, variant, spec, ds)
            arm.rows.append({"seed": s, **metrics.country(ds, spec.capital)})
            if observed is not None:
                arm.compared.append(compare(ds, observed, spec.capital))
            for name, values in _series(ds).items():
                arm.series.setdefault(name, []).append(values)
    assert arm is not None, "no seeds"
    return arm


def report(
    spec: CountryScenario,
    variants: dict[str, CountryScenario],
    runs: int,
    seed: int,
    out_path: Path,
    *,
    folder: Path,
    watch: str | None = None,
    command: str | None = None,
    progress: Stage | None = None,
) -> Path:
    """Run `spec` and each variant `runs` times (seeds seed..seed+runs-1), write the HTML file.

    `folder` holds the scenario's outline and observed files; `watch` is the city whose grid is
    shown (default: the most populous)."""
    if runs < 1:
        raise ValueError(f"--runs must be at least 1, got {runs}")
    watch = watch or animate.largest_city(spec)
    observed = (
        load_observed(folder / spec.observed, [c.name for c in spec.cities])
        if spec.observed
        else None
    )
    seeds = list(range(seed, seed + runs))
    specs: list[tuple[str | None, CountryScenario]] = [(None, spec), *variants.items()]
    total = runs * sum(_hours(s) for _, s in specs)
    arms: list[Arm] = []
    for variant, one in specs:
        before = runs * sum(_hours(s) for _, s in specs[: len(arms)])

        def advance(done: int, before: int = before) -> None:
            if progress:
                progress("runs", before + done, total)

        arms.append(run_arm(one, variant, seeds, watch, observed, advance))
    outline = folder / spec.outline if spec.outline else None
    figures = render_figures(arms, observed, outline, progress)
    page = render_html(arms, observed, figures, seeds, watch, command)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.partial")
    try:
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)
    return out_path


# Figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Picture:
    key: str
    title: str
    caption: str
    png: bytes


def _days(spec: CountryScenario) -> tuple[int, int] | None:
    """Days of January the map shows (at most 12 from the start), or None outside January."""
    last = spec.end - timedelta(hours=1)
    if spec.start.month != 1:
        return None
    end_day = last.day if last.month == 1 and last.year == spec.start.year else 31
    return spec.start.day, min(end_day, spec.start.day + 11)


def map_days(ds: xr.Dataset, outline: Path, days: tuple[int, int], path: Path) -> Path:
    return country_figures.map_by_day(ds, outline, path, *days)


def variants_figure(arms: list[Arm], observed: Observed | None, path: Path) -> Path:
    """The national course of every scenario over runs (median, 5-95% band), observed marked."""
    colours = [colormaps["tab10"](i % 10) for i in range(len(arms))]
    fig = Figure(figsize=(12, 7.5), layout="constrained")
    axes = fig.subplots(2, 2, sharex=True)
    panels = (
        ("active", "active (people, log scale)", "peak_participants", "observed peak"),
        ("deaths", "killed so far (people, log scale)", "deaths", "observed deaths"),
        ("detentions", "detentions so far (people, log scale)", "detentions", "observed"),
        ("held", "city centres held by protesters", None, None),
    )
    for ax, (name, label, seen, seen_label) in zip(axes.flat, panels, strict=True):
        log = name != "held"
        for arm, colour in zip(arms, colours, strict=False):
            t = arm.first["time"].values
            low, mid, high = arm.band(name)
            if log:
                low, mid, high = (np.maximum(v, 1.0) for v in (low, mid, high))
            ax.fill_between(t, low, high, color=colour, alpha=0.2, lw=0)
            ax.plot(t, mid, color=colour, lw=1.4, label=f"{arm.label} (median of {arm.runs})")
        if observed is not None and seen is not None:
            value = float(getattr(observed, seen))
            ax.axhline(value, color="black", ls="--", lw=1.1)
            ax.annotate(
                f"{seen_label}: {value:,.0f}",
                (0.01, value),
                xycoords=("axes fraction", "data"),
                xytext=(0, 3),
                textcoords="offset points",
                fontsize=8,
            )
        if log:
            ax.set_yscale("log")
            ax.set_ylim(bottom=1.0)
        ax.set_ylabel(label)
        ax.grid(color="#eeeeee", lw=0.5)
    axes[0, 0].legend(fontsize=8, loc="upper right")
    for ax in axes[1]:
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    fig.suptitle(
        "National course, median and 5-95% of runs per scenario; dashed: what happened"
        " (sizes are only roughly calibrated: docs/calibration.md)",
        fontsize=10,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path


def render_figures(
    arms: list[Arm], observed: Observed | None, outline: Path | None, progress: Stage | None
) -> list[Picture]:
    """Every figure of the report, as PNG bytes, in the order they appear."""
    seen = None if observed is None else observed.sizes()
    jobs: list[tuple[str, str, str, Callable[[Path], Path]]] = []
    base, rest = arms[0], arms[1:]
    groups = [
        rest[i : i + ENSEMBLE_PER_FIGURE - 1] for i in range(0, len(rest), ENSEMBLE_PER_FIGURE - 1)
    ] or [[]]
    for i, group in enumerate(groups):
        ensembles = [a.ensemble() for a in [base, *group]]
        names = ", ".join(a.label for a in [base, *group])
        jobs.append(
            (
                f"outcomes-{i}",
                f"How the runs end: {names}",
                "Outcome probabilities with 95% Wilson intervals, and the spread of sizes over"
                " runs (log scale); dashed: observed.",
                partial(ensemble_figure, ensembles, observed=seen),
            )
        )
    jobs.append(
        (
            "variants",
            "Scenarios side by side",
            "National actives, killings, detentions and centres held, hour by hour.",
            partial(variants_figure, arms, observed),
        )
    )
    for n, arm in enumerate(arms):
        ds, days = arm.first, _days(arm.spec)
        seed = ds.attrs["seed"]
        jobs.append(
            (
                f"timelines-{n}",
                f"{arm.label}: per-city timelines (seed {seed})",
                "Share of citizens active (red) and jailed (grey), centre held (shaded), against"
                " the observed first protest (dashed; dotted: day only) and seizures (triangles).",
                partial(country_figures.city_timelines, ds, observed),
            )
        )
        if outline is not None and days is not None:
            jobs.append(
                (
                    f"map-{n}",
                    f"{arm.label}: the map by day (seed {seed})",
                    "Circle area = population; colour = the day's peak share active; black ring ="
                    " centre held that day.",
                    partial(map_days, ds, outline, days),
                )
            )
        jobs.append(
            (
                f"grid-{n}",
                f"{arm.label}: {ds.attrs['watch']}'s grid (seed {seed})",
                "Cell kinds of one city at moments over the calendar and at its peak hour.",
                partial(animate.grid_snapshots, ds),
            )
        )
    pictures = []
    with tempfile.TemporaryDirectory(prefix="uprising-report-") as tmp:
        for i, (key, title, caption, draw) in enumerate(jobs, 1):
            path = draw(Path(tmp) / f"{key}.png")
            pictures.append(Picture(key, title, caption, path.read_bytes()))
            if progress:
                progress("figures", i, len(jobs))
    return pictures


# HTML ------------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
  max-width: 1250px; padding: 0 1.2em 3em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc;
  margin-top: 2em; } h3 { margin-top: 1.5em; }
.meta { color: #555; font-size: 0.9em; }
.warn { background: #fff4e0; border-left: 5px solid #e69b00; padding: 0.6em 1em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.6em 0; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.obs, th.obs { background: #eef5ff; font-weight: 600; }
.scroll { overflow-x: auto; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.85em; color: #555; }
code, pre { background: #f6f6f6; padding: 0.1em 0.3em; font-size: 0.9em; }
pre { padding: 0.6em; overflow-x: auto; white-space: pre-wrap; }
nav a { margin-right: 1em; }
"""


def e(value: object) -> str:
    return html.escape(str(value), quote=True)


class _Num(str):
    """A cell holding a number: right-aligned."""


def _n(text: str) -> str:
    return _Num(e(text))


def _table(head: list[str], rows: list[list[str]], obs_columns: Sequence[int] = ()) -> str:
    """Cells are HTML already (escape text first); `_n` cells are numbers, right-aligned."""

    def cell(tag: str, i: int, value: str) -> str:
        classes = []
        if i in obs_columns:
            classes.append("obs")
        if isinstance(value, _Num):
            classes.append("n")
        attr = f' class="{" ".join(classes)}"' if classes else ""
        return f"<{tag}{attr}>{value}</{tag}>"

    top = "".join(cell("th", i, h) for i, h in enumerate(head))
    body = "".join(
        "<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>" for row in rows
    )
    return f'<div class="scroll"><table><tr>{top}</tr>{body}</table></div>'


def _people(value: float) -> str:
    return f"{value:,.0f}"


def _ratio(sim: float, obs: float) -> str:
    if obs <= 0:
        return "n/a"
    r = sim / obs
    return f"×{r:,.0f}" if r >= 10 else f"×{r:.2g}"


def _at(start: datetime, hour: float) -> str:
    t = start + timedelta(hours=float(hour))
    return f"{t.day} {t:%b %H:%M}"


def _date(when: datetime, day_only: bool = False) -> str:
    return f"{when.day} {when:%b}" if day_only else f"{when.day} {when:%b %H:%M}"


def _share(p: dict[str, float], key: str = "fraction") -> str:
    return f"{p[key]:.2f} [{p['low']:.2f}, {p['high']:.2f}]"


def _figure(picture: Picture) -> str:
    data = base64.b64encode(picture.png).decode("ascii")
    return (
        f'<figure id="fig-{e(picture.key)}"><img alt="{e(picture.title)}"'
        f' src="data:image/png;base64,{data}"><figcaption><b>{e(picture.title)}.</b>'
        f" {e(picture.caption)}</figcaption></figure>"
    )


def _honesty(arms: list[Arm], observed: Observed | None) -> str:
    note = arms[0].spec.scale_note()
    scale = f'<p class="warn">{e(note)}.</p>' if note else ""
    if observed is None:
        return scale + (
            '<p class="warn">This scenario has no observed facts: nothing here is compared with'
            " what happened.</p>"
        )
    q = arms[0].ensemble().quantiles()
    parts = []
    for metric, seen, label in SIZES:
        sim, obs = q[metric]["q50"], float(getattr(observed, seen))
        parts.append(
            f"{e(label.split(' (')[0])}: {_people(sim)} simulated against {_people(obs)} observed"
            f" ({_ratio(sim, obs)})"
        )
    return scale + (
        '<div class="warn"><b>Read the timing and the geography before the counts.</b> The model'
        " is calibrated on when and where the uprising spread, and only roughly on its sizes"
        " (see <code>docs/calibration.md</code>). Medians of"
        f" {e(arms[0].label)} over {arms[0].runs} runs: {'; '.join(parts)}. Every simulated"
        " number below stands beside the observed one (blue columns).</div>"
    )


def _scenario_section(arms: list[Arm], seeds: list[int], watch: str) -> str:
    spec = arms[0].spec
    hours = _hours(spec)
    first = arms[0].first
    facts = [
        ["name", e(spec.name)],
        ["description", e(spec.description)],
        ["source", e(spec.source)],
        ["calendar", e(f"{spec.start:%Y-%m-%d %H:%M} to {spec.end:%Y-%m-%d %H:%M}, {hours} hours")],
        ["capital", e(spec.capital)],
        ["cities", e(len(spec.cities))],
        ["scale", e(f"one agent per {spec.people_per_agent:,} people")],
        ["rules", e(spec.rules)],
        ["Epstein", e(", ".join(f"{k} = {v}" for k, v in spec.epstein.model_dump().items()))],
        ["grid", e(", ".join(f"{k} = {v}" for k, v in spec.grid.model_dump().items()))],
        ["seeds", e(f"{seeds[0]}..{seeds[-1]} ({len(seeds)} runs per scenario)")],
        ["figures show", e(f"seed {seeds[0]}; the grid of {watch}")],
        ["package version", e(package_version())],
        ["backend", e(first.attrs.get("backend", jax.default_backend()))],
    ]
    facts += [[e(f"scenario hash: {a.label}"), f"<code>{e(a.spec.digest())}</code>"] for a in arms]
    out = ["<h2 id='scenario'>The scenario</h2>", _table(["", ""], facts)]

    rows = []
    for name, block in spec.mechanisms.model_dump(mode="json").items():
        enabled = block.pop("enabled", True)
        params = ", ".join(f"{k} = {json.dumps(v)}" for k, v in block.items())
        rows.append([e(name), "on" if enabled else "<b>off</b>", e(params)])
    out += ["<h3>Mechanisms and their parameters</h3>", _table(["mechanism", "", "values"], rows)]

    rows = []
    for ev in spec.events:
        if ev.start is not None:
            when = _date(ev.start)
        else:
            assert ev.trigger is not None
            when = f"when {ev.trigger.active_share:.1%} active, +{ev.trigger.delay_hours:g} h"
        if ev.end is not None:
            until = _date(ev.end)
        elif ev.hours is not None:
            until = f"{ev.hours:g} h"
        else:
            until = "to the end"
        cities = "all" if ev.cities == "all" else ", ".join(ev.cities)
        if ev.source:
            cities = f"{ev.source} → {cities}"
        size = f"{ev.count:,} people" if ev.count else (f"{ev.value:g}" if ev.value else "")
        rows.append(
            [e(when), e(until), f"<code>{e(ev.id)}</code>"]
            + [e(ev.kind) + ("" if ev.enabled else " <b>off</b>"), e(cities), e(size)]
            + [e(ev.note)]
        )
    out += [
        "<h3>Calendar of events</h3>",
        _table(["from", "until", "event", "kind", "cities", "value", "note"], rows),
    ]

    agents = {
        str(c): int(n) for c, n in zip(first["city"].values, first["citizens"].values, strict=True)
    }
    rows = [
        [
            e(c.name),
            _n(_people(c.population)),
            e(c.region),
            e(c.price_region),
            _n(_people(c.police)),
            _n(f"{c.legitimacy:g}"),
            _n(f"{c.memory:g}"),
            _n(str(agents.get(c.name, ""))),
        ]
        for c in spec.cities
    ]
    head = ["city", "population", "region", "prices", "police", "legitimacy", "memory", "agents"]
    out += ["<h3>Cities</h3>", _table(head, rows)]

    if len(arms) > 1:
        items = []
        for arm in arms[1:]:
            assert arm.variant is not None
            changes = json.dumps(spec.variants[arm.variant], default=str, indent=1)
            items.append(f"<h4>{e(arm.variant)}</h4><pre>{e(changes)}</pre>")
        out += ["<h3>What the variants change</h3>", *items]
    return "\n".join(out)


def _national(arms: list[Arm], observed: Observed) -> str:
    head = ["", "observed"] + [f"{e(a.label)}: median [5%, 95%]" for a in arms]
    head += [f"{e(a.label)} ÷ observed" for a in arms]
    rows = []
    quantiles = [a.ensemble().quantiles() for a in arms]
    for metric, seen, label in SIZES:
        obs = float(getattr(observed, seen))
        row = [e(label), _n(_people(obs))]
        row += [
            _n(f"{_people(q[metric]['q50'])} [{_people(q[metric]['q05'])}, "
               f"{_people(q[metric]['q95'])}]")
            for q in quantiles
        ]  # fmt: skip
        row += [_n(_ratio(q[metric]["q50"], obs)) for q in quantiles]
        rows.append(row)
    ends = []
    for arm in arms:
        probs = arm.ensemble().probabilities()
        top = max(probs, key=lambda o: probs[o]["p"])
        ends.append(e(f"{top.replace('_', ' ')} in {probs[top]['p']:.0%} of runs"))
    rows.append(["how it ends", e(observed.outcome.replace("_", " ")), *ends, *[""] * len(arms)])
    return _table(head, rows, obs_columns=[1])


def _targets(arms: list[Arm]) -> str:
    head = ["target", "rule"] + [f"{e(a.label)}: share of runs [95%]" for a in arms]
    rows = []
    for target in TARGETS:
        row = [f"<code>{e(target)}</code>", e(TARGET_RULES.get(target, ""))]
        for arm in arms:
            hits = sum(bool(c["targets"][target]) for c in arm.compared)
            low, high = wilson(hits, arm.runs)
            row.append(_n(_share({"fraction": hits / arm.runs, "low": low, "high": high})))
        rows.append(row)
    score = ["<b>score</b>", e("mean of the parts below, 0..1, higher is closer")]
    score += [
        _n(f"{np.mean([c['score'] for c in a.compared]):.3f} ± "
           f"{np.std([c['score'] for c in a.compared]):.3f}")
        for a in arms
    ]  # fmt: skip
    rows.append(score)
    parts = {
        "onset": "per city: exp(-|simulated - observed onset| / 24 h)",
        "seizure": "share of cities where seizure or no seizure agrees",
        "size": "per national size: exp(-|log10(simulated / observed)|)",
        "outcome": "1 if the run ends as the uprising did",
    }
    for part, rule in parts.items():
        row = [f"score: {e(part)}", e(rule)]
        row += [_n(f"{np.nanmean([c['score_parts'][part] for c in a.compared]):.3f}") for a in arms]
        rows.append(row)
    return _table(head, rows)


def _cities(arms: list[Arm], observed: Observed) -> str:
    start = arms[0].spec.start
    head = ["city", "population", "observed first protest"]
    head += [f"{e(a.label)}: rose (median, vs observed) · runs" for a in arms]
    head += ["observed centre"]
    head += [f"{e(a.label)}: centre held · first (median)" for a in arms]
    rows = []
    for c in arms[0].spec.cities:
        city = c.name
        obs_onset = observed.onset.get(city)
        row = [e(city), _n(_people(c.population))]
        row.append(
            e(_date(obs_onset, observed.onset_day_only.get(city, False))) if obs_onset else "—"
        )
        for arm in arms:
            hours = [r["cities"][city]["onset_hour"] for r in arm.compared]
            risen = [h for h in hours if h is not None]
            if not risen:
                row.append(e(f"never · 0/{arm.runs}"))
                continue
            median = float(np.median(risen))
            when = _at(arm.spec.start, median)
            delta = ""
            if obs_onset is not None:
                gap = median - (obs_onset - start) / timedelta(hours=1)
                delta = f" ({gap:+.0f} h)"
            row.append(e(f"{when}{delta} · {len(risen)}/{arm.runs}"))
        if city in observed.seized:
            text = f"seized {_date(observed.seized[city], True)}"
            if city in observed.retaken:
                text += f", retaken {_date(observed.retaken[city], True)}"
        elif city in observed.not_seized:
            text = "not seized"
        else:
            text = "—"
        row.append(e(text))
        for arm in arms:
            held = [r["cities"][city]["seized_hour"] for r in arm.compared]
            taken = [h for h in held if h is not None]
            first = f" · {_at(arm.spec.start, float(np.median(taken)))}" if taken else ""
            row.append(e(f"{len(taken)}/{arm.runs}{first}"))
        rows.append(row)
    n = len(arms)
    note = (
        "<p class='meta'>Times are local. Observed dates without an hour are shown as the day"
        " (read as 12:00 for the hour differences). A city rises in the first hour its share"
        " active reaches 2%; — : not known.</p>"
    )
    return _table(head, rows, obs_columns=[2, 3 + n]) + note


def _outcomes(arms: list[Arm], observed: Observed | None) -> str:
    head = ["outcome"] + [f"{e(a.label)}: probability [95%]" for a in arms]
    if observed is not None:
        head.insert(1, "observed")
    rows = []
    probs = [a.ensemble().probabilities() for a in arms]
    for name in outcome.OUTCOMES:
        row = [e(name.replace("_", " "))]
        if observed is not None:
            row.append("✓" if observed.outcome == name else "")
        row += [_n(_share(p[name], "p")) for p in probs]
        rows.append(row)
    return _table(head, rows, obs_columns=[1] if observed is not None else [])


def _first_runs(arm: Arm, observed: Observed | None) -> str:
    s = summarize_country(arm.first, arm.spec.capital)
    seen: dict[str, str] = {}
    if observed is not None:
        seen = {
            "outcome": observed.outcome,
            "peak_active": _people(observed.peak_participants),
            "deaths": _people(observed.deaths),
            "detentions": _people(observed.detentions),
            "first_city": ", ".join(sorted(observed.onset, key=lambda c: observed.onset[c])[:1]),
            "cities_risen": f"{len(observed.onset)} with a known first protest",
            "centres_held": ", ".join(sorted(observed.seized, key=lambda c: observed.seized[c])),
        }
    rows = []
    for key in ("outcome", "peak_active", "peak_time", "deaths", "detentions", "first_city",
                "cities_risen", "centres_held"):  # fmt: skip
        value = s[key]
        if isinstance(value, list):
            shown = ", ".join(value) or "none"
        elif isinstance(value, int | float):
            shown = _people(value)
        else:
            shown = str(value)
        rows.append([e(key.replace("_", " ")), e(shown), e(seen.get(key, ""))])
    return _table(["first run", f"seed {e(s['seed'])}", "observed"], rows, obs_columns=[2])


def render_html(
    arms: list[Arm],
    observed: Observed | None,
    figures: list[Picture],
    seeds: list[int],
    watch: str,
    command: str | None,
) -> str:
    spec = arms[0].spec
    by_key = {p.key: p for p in figures}
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    labels = ", ".join(a.label for a in arms)
    body = [
        f"<h1>{e(spec.name)}: simulated against observed</h1>",
        f"<p class='meta'>uprising {e(package_version())} · {e(labels)} · {len(seeds)} runs"
        f" each, seeds {seeds[0]}..{seeds[-1]} · one agent per {spec.people_per_agent:,}"
        f" people · made {e(now)}</p>",
        "<nav><a href='#scenario'>scenario</a><a href='#observed'>simulated vs observed</a>"
        "<a href='#outcomes'>how it ends</a><a href='#variants'>side by side</a>"
        "<a href='#runs'>runs</a><a href='#how'>how it was made</a></nav>",
        _honesty(arms, observed),
        _scenario_section(arms, seeds, watch),
        "<h2 id='observed'>Simulated against observed</h2>",
    ]
    if observed is None:
        body.append("<p>No observed facts for this scenario.</p>")
    else:
        body += [
            "<h3>National</h3>",
            _national(arms, observed),
            "<h3>Calibration targets</h3>",
            "<p class='meta'>Share of runs meeting each target, with 95% Wilson intervals"
            " (docs/calibration.md says which were fitted and which held out).</p>",
            _targets(arms),
            "<h3>Per city</h3>",
            _cities(arms, observed),
        ]
    body += ["<h2 id='outcomes'>How the runs end</h2>", _outcomes(arms, observed)]
    body += [_figure(p) for p in figures if p.key.startswith("outcomes-")]
    body += ["<h2 id='variants'>Scenarios side by side</h2>", _figure(by_key["variants"])]
    body.append("<h2 id='runs'>Runs, one per scenario</h2>")
    for n, arm in enumerate(arms):
        body += [f"<h3>{e(arm.label)}</h3>", _first_runs(arm, observed)]
        body += [
            _figure(by_key[k]) for k in (f"timelines-{n}", f"map-{n}", f"grid-{n}") if k in by_key
        ]
    body += [
        "<h2 id='how'>How it was made</h2>",
        f"<pre>{e(command or 'uprising report ' + spec.name)}</pre>",
        "<p class='meta'>The same scenario hash, seeds, package version and backend give the"
        " same numbers. Animate one run with <code>uprising animate</code>"
        " (docs/report.md).</p>",
    ]
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{e(spec.name)} · uprising report</title><style>{STYLE}</style></head>"
        "<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
