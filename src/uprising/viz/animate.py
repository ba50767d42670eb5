"""An animation of a country run: the map of cities and one city's grid, hour by hour.

Each frame shows the calendar's time, the map (circle area = population, colour = share of
citizens active on one scale for the whole run, black ring = centre held by protesters), the
watched city's grid (cell kinds: empty, quiet, active, police or troops) and the events in force.
Frames are drawn with matplotlib's Figure API (no pyplot); a GIF is written with Pillow, an MP4
with ffmpeg (only where ``ffmpeg`` is on PATH). Files are written atomically (tmp + rename).
"""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import BoundaryNorm, ListedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from uprising.engine.state import ACTIVE, COP, EMPTY, JAILED, QUIET, WALL
from uprising.scenarios.compile import compile_country
from uprising.scenarios.country import CountryScenario
from uprising.viz import country as country_figures

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.image import AxesImage

SUFFIXES = (".gif", ".mp4")
KINDS = {  # cell kind: (colour, label); colours as in viz.figures' grid
    int(EMPTY): ("#ffffff", "empty"),
    int(QUIET): ("#9ab8de", "quiet"),
    int(ACTIVE): ("#dd3b2a", "active"),
    int(COP): ("#111111", "police / troops"),
    int(JAILED): ("#f2b134", "jailed (on grid)"),
    int(WALL): ("#d9d9d9", "outside the city"),
}
_CMAP = ListedColormap([KINDS[k][0] for k in sorted(KINDS)])
_NORM = BoundaryNorm(np.arange(len(KINDS) + 1) - 0.5, len(KINDS))
Progress = Callable[[int, int], None]


class AnimationError(ValueError):
    """An animation that cannot be made as asked (output format, city, spacing of frames)."""


def check_output(path: Path) -> str:
    """The format of an output path ('gif' or 'mp4'), or an error naming the allowed suffixes."""
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise AnimationError(
            f"--out {str(path)!r}: unsupported suffix {suffix or '(none)'!r};"
            " allowed: .gif, .mp4 (mp4 needs ffmpeg on PATH)"
        )
    if suffix == ".mp4" and shutil.which("ffmpeg") is None:
        raise AnimationError(
            f"--out {str(path)!r}: an .mp4 needs ffmpeg on PATH and there is none;"
            " allowed here: .gif"
        )
    return suffix[1:]


def largest_city(spec: CountryScenario) -> str:
    """The city watched when none is named: the most populous."""
    return max(spec.cities, key=lambda c: c.population).name


def frame_hours(hours: int, every: int) -> list[int]:
    """Hour indices drawn: every `every` hours, ending each interval, and always the last hour."""
    if every < 1:
        raise AnimationError(f"--every must be at least 1 hour, got {every}")
    picked = list(range(every - 1, hours, every))
    if hours and (not picked or picked[-1] != hours - 1):
        picked.append(hours - 1)
    return picked


def events_in_force(spec: CountryScenario, hours: int) -> list[list[str]]:
    """Per hour index, the ids of the dated events in force, by the engine's own rule (an event
    of a switched-off mechanism never starts; triggered events are left out: a run does not
    record when they fired)."""
    events = compile_country(spec).country.events
    start = np.asarray(events.start, float)
    length = np.asarray(events.hours, float)
    h = np.arange(hours, dtype=float)[:, None]
    on = (h >= start[None, :]) & (h < start[None, :] + length[None, :])
    ids = [e.id for e in spec.events]
    return [[ids[i] for i in np.flatnonzero(row) if i < len(ids)] for row in on]


def draw_grid(ax: Axes, grid: np.ndarray) -> AxesImage:
    """One city's cells, coloured by kind, without ticks."""
    image = ax.imshow(grid, cmap=_CMAP, norm=_NORM, interpolation="nearest")
    ax.set(xticks=[], yticks=[])
    return image


def grid_legend(ax: Axes, kinds: list[int], **kwargs: Any) -> None:
    handles = [Patch(fc=KINDS[k][0], ec="#999999", label=KINDS[k][1]) for k in kinds]
    ax.legend(handles=handles, frameon=False, fontsize=8, **kwargs)


def _when(ds: xr.Dataset, index: int) -> str:
    """The end of hour `index`, as a local date and time."""
    t = ds["time"].values[index].astype("datetime64[m]").item()
    return t.strftime("%a %d %b %Y %H:%M")


def _people(n: float) -> str:
    return f"{n:,.0f}"


def grid_snapshots(ds: xr.Dataset, path: Path, panels: int = 6) -> Path:
    """The watched city's grid at `panels` moments: evenly over the calendar and at its peak."""
    if "grid" not in ds:
        raise ValueError("the run has no grid: simulate it with watch=CITY")
    city = str(ds.attrs["watch"])
    active = ds["active"].sel(city=city).values
    hours = int(ds.sizes["time"])
    picked = set(np.linspace(0, hours - 1, panels - 1).round().astype(int).tolist())
    picked.add(int(active.argmax()))
    picked_list = sorted(picked)
    ncols = min(3, len(picked_list))
    nrows = -(-len(picked_list) // ncols)
    citizens = int(ds["citizens"].sel(city=city).values)
    fig = Figure(figsize=(3.3 * ncols, 3.3 * nrows + 0.8), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    peak = int(active.argmax())
    for ax, h in zip(axes.flat, picked_list, strict=False):
        draw_grid(ax, ds["grid"].values[h])
        label = " (peak)" if h == peak else ""
        share = active[h] / max(citizens, 1)
        held = " · centre held" if bool(ds["held"].sel(city=city).values[h]) else ""
        ax.set_title(f"{_when(ds, h)}{label}\nactive {share:.1%}{held}", fontsize=8)
    for ax in axes.flat[len(picked_list) :]:
        ax.set_axis_off()
    kinds = sorted(int(k) for k in np.unique(ds["grid"].values) if int(k) in KINDS)
    fig.legend(
        handles=[Patch(fc=KINDS[k][0], ec="#999999", label=KINDS[k][1]) for k in kinds],
        loc="outside lower center",
        ncols=len(kinds),
        fontsize=8,
        frameon=False,
    )
    fig.suptitle(
        f"{country_figures._title(ds)} · {city}: {citizens} citizen agents"
        f" (1 per {int(ds.attrs['people_per_agent']):,} people); jailed agents are off the grid",
        fontsize=10,
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path


class _Frames:
    """One figure, updated in place for each frame."""

    def __init__(self, ds: xr.Dataset, spec: CountryScenario, outline: Path | None, dpi: int):
        if "grid" not in ds:
            raise ValueError("the run has no grid: simulate it with watch=CITY")
        self.ds, self.spec = ds, spec
        self.city = str(ds.attrs["watch"])
        self.per = int(ds.attrs["people_per_agent"])
        self.share = (ds["active"] / np.maximum(ds["citizens"], 1)).values
        self.held = ds["held"].values.astype(bool)
        self.events = events_in_force(spec, int(ds.sizes["time"]))
        self.notes = {e.id: e.kind for e in spec.events}
        vmax = float(self.share.max()) if self.share.size and self.share.max() > 0 else 1.0
        self.norm = Normalize(0.0, vmax)

        self.fig = Figure(figsize=(10.0, 5.6), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        # Fixed rectangles (left, bottom, width, height), so frames never shift.
        self.map_ax = self.fig.add_axes((0.01, 0.2, 0.6, 0.66))
        self.grid_ax = self.fig.add_axes((0.64, 0.2, 0.34, 0.62))
        if outline is not None:
            self.base = country_figures.map_base(ds, outline)
            country_figures.draw_outline(self.map_ax, self.base)
        else:
            self.base = _bare_base(ds)
            self.map_ax.set(xticks=[], yticks=[])
        self.points, self.rings = country_figures.draw_cities(
            self.map_ax, self.base, self.share[0], self.held[0], self.norm
        )
        bar = self.fig.colorbar(
            ScalarMappable(self.norm, country_figures.CMAP),
            cax=self.fig.add_axes((0.12, 0.16, 0.38, 0.022)),
            orientation="horizontal",
        )
        bar.set_label("share of citizens active · black ring = centre held", fontsize=8)
        bar.ax.tick_params(labelsize=7)
        self.image = draw_grid(self.grid_ax, ds["grid"].values[0])
        kinds = [int(k) for k in (EMPTY, QUIET, ACTIVE, COP)]
        grid_legend(self.grid_ax, kinds, loc="upper center", bbox_to_anchor=(0.5, -0.01), ncols=2)
        self.title = self.fig.text(0.5, 0.955, "", ha="center", fontsize=12)
        self.subtitle = self.fig.text(0.5, 0.905, "", ha="center", fontsize=9, color="#333333")
        self.grid_title = self.grid_ax.set_title("", fontsize=9)
        self.text = self.fig.text(0.02, 0.075, "", va="top", ha="left", fontsize=8)

    def draw(self, h: int) -> None:
        ds, city = self.ds, self.city
        base = self.base
        self.points.set_array(self.share[h][base.order])
        held = self.held[h]
        self.rings.set_offsets(np.column_stack([base.lon[held], base.lat[held]]))
        self.rings.set_sizes(base.sizes[held])
        self.image.set_data(ds["grid"].values[h])
        self.title.set_text(f"{self.spec.name} · seed {ds.attrs['seed']} · {_when(ds, h)} (local)")
        active = int(ds["active"].values[h].sum()) * self.per
        jailed = int(ds["jailed"].values[h].sum()) * self.per
        deaths = int(ds["deaths"].values[h].sum()) * self.per
        names = [str(c) for c in ds["city"].values]
        held_names = [names[i] for i in np.flatnonzero(held)]
        self.subtitle.set_text(
            f"model people (1 agent = {self.per:,}): active {_people(active)} · jailed"
            f" {_people(jailed)} · killed {_people(deaths)} · centres held:"
            f" {', '.join(held_names) or 'none'}"
        )
        i = names.index(city)
        share = self.share[h][i]
        cops = int(ds["police"].values[h][i] + ds["troops"].values[h][i])
        state = " · centre held" if held[i] else ""
        self.grid_title.set_text(f"{city}: active {share:.1%}, {cops} police/troop agents{state}")
        force = [f"{e} ({self.notes[e]})" for e in self.events[h]]
        line = "events in force: " + (", ".join(force) if force else "none")
        self.text.set_text("\n".join(textwrap.wrap(line, 170)[:3]))

    def rgb(self) -> np.ndarray:
        self.canvas.draw()
        return np.asarray(self.canvas.buffer_rgba())[..., :3].copy()


def _bare_base(ds: xr.Dataset) -> country_figures.MapBase:
    """Circles without an outline, for a scenario that names none."""
    lon, lat = ds["lon"].values, ds["lat"].values
    population = ds["population"].values
    sizes = country_figures.MAX_MARKER * population / max(int(population.max()), 1)
    extent = (lon.min() - 1.0, lon.max() + 1.0, lat.min() - 1.0, lat.max() + 1.0)
    return country_figures.MapBase([], lon, lat, sizes, np.argsort(-sizes), extent, 1.0)


def write_animation(
    ds: xr.Dataset,
    spec: CountryScenario,
    path: Path,
    *,
    outline: Path | None = None,
    every: int = 3,
    fps: int = 6,
    dpi: int = 100,
    progress: Progress | None = None,
) -> Path:
    """Frames of a watched run (`simulate_country(..., watch=CITY)`) into a GIF or an MP4."""
    from PIL import Image

    path = Path(path)
    kind = check_output(path)
    hours = frame_hours(int(ds.sizes["time"]), every)
    frames = _Frames(ds, spec, outline, dpi)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
    try:
        if kind == "gif":
            images = []
            for n, h in enumerate(hours, 1):
                frames.draw(h)
                images.append(Image.fromarray(frames.rgb()).quantize(colors=128))
                if progress:
                    progress(n, len(hours))
            images[0].save(
                tmp,
                format="GIF",
                save_all=True,
                append_images=images[1:],
                duration=round(1000 / fps),
                loop=0,
                optimize=True,
            )
        else:
            _mp4(frames, hours, tmp, fps, dpi, progress)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _mp4(
    frames: _Frames, hours: list[int], tmp: Path, fps: int, dpi: int, progress: Progress | None
) -> None:
    from matplotlib.animation import FFMpegWriter

    # yuv420p plays everywhere but needs even sides: pad by a pixel where a side is odd.
    writer = FFMpegWriter(
        fps=fps,
        codec="libx264",
        extra_args=["-pix_fmt", "yuv420p", "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2"],
    )
    with writer.saving(frames.fig, str(tmp), dpi):
        for n, h in enumerate(hours, 1):
            frames.draw(h)
            writer.grab_frame()
            if progress:
                progress(n, len(hours))


def animate(
    spec: CountryScenario,
    path: Path,
    *,
    seed: int = 0,
    city: str | None = None,
    outline: Path | None = None,
    every: int = 3,
    fps: int = 6,
    dpi: int = 100,
    run_progress: Progress | None = None,
    frame_progress: Progress | None = None,
) -> Path:
    """Run `spec` once watching `city` (default: the most populous) and animate it."""
    from uprising.run.country import simulate_country

    check_output(path)
    names = [c.name for c in spec.cities]
    city = city or largest_city(spec)
    if city not in names:
        raise AnimationError(
            f"--city {city!r} is not a city of {spec.name}; allowed: {', '.join(names)}"
        )
    ds = simulate_country(spec, seed, run_progress, watch=city)
    return write_animation(
        ds, spec, path, outline=outline, every=every, fps=fps, dpi=dpi, progress=frame_progress
    )
