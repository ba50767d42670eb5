"""Figures of a country run: a map per day and a timeline per city, beside what happened.

Built on ``matplotlib.figure.Figure`` rather than pyplot, so they keep no global state and work
under any backend. A run's hour is labelled by its end (01:00 is the first hour of 1 Jan), so an
hour belongs to the day of ``time - 1 h``: the hour ending at midnight is still that day's.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib.dates as mdates
import numpy as np
import xarray as xr
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.collections import PathCollection

    from uprising.scenarios.observed import Observed

HOUR = np.timedelta64(1, "h")
ACTIVE, JAILED, HELD = "#dd3b2a", "#555555", "#f6c6c0"
CMAP = "YlOrRd"
MAX_MARKER = 420.0  # points^2 of the most populous city on the map


def _title(ds: xr.Dataset) -> str:
    return f"{ds.attrs.get('scenario', '?')} · seed {ds.attrs.get('seed', '?')}"


def _share(ds: xr.Dataset, var: str) -> xr.DataArray:
    """Agents in ``var`` as a share of the city's citizens, so cities of any size compare."""
    return ds[var] / np.maximum(ds["citizens"], 1)


def _rings(outline_path: Path) -> list[np.ndarray]:
    """Every ring (outer and holes) of the Polygons and MultiPolygons in a GeoJSON file."""
    data = json.loads(Path(outline_path).read_text())
    features = data.get("features", [data])
    rings = []
    for feature in features:
        geometry = feature.get("geometry", feature)
        kind, coords = geometry["type"], geometry["coordinates"]
        polygons = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
        rings += [np.asarray(ring, dtype=float)[:, :2] for poly in polygons for ring in poly]
    if not rings:
        raise ValueError(f"{outline_path} has no Polygon or MultiPolygon")
    return rings


@dataclass(frozen=True)
class MapBase:
    """What every map of one run shares: the outline, the view and each city's circle."""

    rings: list[np.ndarray]
    lon: np.ndarray
    lat: np.ndarray
    sizes: np.ndarray  # points^2, by population
    order: np.ndarray  # big circles first so small ones stay visible on top
    extent: tuple[float, float, float, float]  # x0, x1, y0, y1
    aspect: float


def map_base(ds: xr.Dataset, outline_path: Path) -> MapBase:
    """The outline and circles of a run's cities, framed to show them all."""
    rings = _rings(outline_path)
    lon, lat = ds["lon"].values, ds["lat"].values
    every = np.concatenate([*rings, np.column_stack([lon, lat])])
    (x0, y0), (x1, y1) = every.min(axis=0) - 1.0, every.max(axis=0) + 1.0
    # Degrees of longitude shrink with latitude; stretch y so the country keeps its shape.
    aspect = 1 / math.cos(math.radians((y0 + y1) / 2))
    sizes = MAX_MARKER * ds["population"].values / max(int(ds["population"].values.max()), 1)
    return MapBase(rings, lon, lat, sizes, np.argsort(-sizes), (x0, x1, y0, y1), aspect)


def draw_outline(ax: Axes, base: MapBase) -> None:
    """The country's outline, framed and without ticks."""
    for ring in base.rings:
        ax.fill(ring[:, 0], ring[:, 1], fc="#f1efe9", ec="#8a8a8a", lw=0.6)
    x0, x1, y0, y1 = base.extent
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xticks=[], yticks=[])
    ax.set_aspect(base.aspect)


def draw_cities(
    ax: Axes, base: MapBase, share: np.ndarray, held: np.ndarray, norm: Normalize
) -> tuple[PathCollection, PathCollection]:
    """Cities coloured by `share` (one value per city) on `norm`, black-ringed where `held`.
    Returns the circles and the rings, so an animation can update them."""
    o = base.order
    points = ax.scatter(
        base.lon[o], base.lat[o], s=base.sizes[o], c=share[o], cmap=colormaps[CMAP], norm=norm
    )
    rings = ax.scatter(
        base.lon[held], base.lat[held], s=base.sizes[held], fc="none", ec="black", lw=1.4, zorder=3
    )
    return points, rings


def map_by_day(
    ds: xr.Dataset, outline_path: Path, path: Path, first_day: int = 1, last_day: int = 12
) -> Path:
    """One map per day of January: cities sized by population, coloured by the day's peak share
    active on one scale for the whole run, ringed where protesters held the centre."""
    if not 1 <= first_day <= last_day <= 31:
        raise ValueError(
            f"days of January must satisfy 1 <= first_day <= last_day <= 31, "
            f"got first_day={first_day}, last_day={last_day}"
        )
    days = list(range(first_day, last_day + 1))
    ncols = min(4, len(days))
    nrows = math.ceil(len(days) / ncols)
    base = map_base(ds, outline_path)

    share = _share(ds, "active").values
    vmax = float(share.max()) if share.size and share.max() > 0 else 1.0
    norm, cmap = Normalize(0.0, vmax), colormaps[CMAP]
    day_of = (ds["time"].values - HOUR).astype("datetime64[D]")
    year = int(str(day_of[0])[:4]) if day_of.size else 2022

    panel_w = 3.4
    fig = Figure(
        figsize=(panel_w * ncols + 1.2, panel_w * nrows * 0.62 + 1.0), layout="constrained"
    )
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax, day in zip(axes.flat, days, strict=False):
        draw_outline(ax, base)
        hours = day_of == np.datetime64(f"{year}-01-{day:02d}")
        if hours.any():
            peak = share[hours].max(axis=0)
            held = ds["held"].values[hours].any(axis=0)
            draw_cities(ax, base, peak, held, norm)
            ax.set_title(f"{day} Jan", fontsize=10)
        else:
            ax.scatter(base.lon, base.lat, s=base.sizes, fc="none", ec="#aaaaaa", lw=0.6)
            ax.set_title(f"{day} Jan (not run)", fontsize=10, color="#888888")
    for ax in axes.flat[len(days) :]:
        ax.set_axis_off()
    bar = fig.colorbar(ScalarMappable(norm, cmap), ax=axes, shrink=0.7, pad=0.01)
    bar.set_label("share of citizens active (day's peak hour)")
    fig.suptitle(
        f"{_title(ds)} · circle area = population · black ring = centre held that day",
        fontsize=11,
    )
    return _save(fig, path, dpi=110)


def _spans(mask: np.ndarray) -> list[tuple[int, int]]:
    """Start and end (exclusive) indices of each run of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def city_timelines(
    ds: xr.Dataset, observed: Observed | None, path: Path, cities: list[str] | None = None
) -> Path:
    """One small timeline per city, west to east, against the observed onset and seizures.

    West to east because the uprising spread from Zhanaozen and Aktau in the west towards
    Almaty in the east, so a faithful run shows onsets drifting later down the page."""
    names = [str(c) for c in ds["city"].values]
    if cities is not None:
        unknown = [c for c in cities if c not in names]
        if unknown:
            raise ValueError(f"cities {unknown} are not in the run; it has {names}")
        names = list(cities)
    sub = ds.sel(city=names).sortby("lon")
    t = sub["time"].values
    active, jailed = _share(sub, "active").values, _share(sub, "jailed").values
    top = max(float(np.nanmax(active, initial=0)), float(np.nanmax(jailed, initial=0)), 1e-3)

    ncols = min(3, len(names))
    nrows = math.ceil(len(names) / ncols)
    fig = Figure(figsize=(4.2 * ncols, 1.7 * nrows + 1.2), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
    for i, ax in enumerate(axes.flat[: len(names)]):
        city = str(sub["city"].values[i])
        for s, e in _spans(sub["held"].values[:, i]):
            ax.axvspan(t[s] - HOUR, t[e - 1], color=HELD, lw=0)
        ax.plot(t, jailed[:, i], color=JAILED, lw=0.8, alpha=0.5)
        ax.plot(t, active[:, i], color=ACTIVE, lw=1.0)
        if observed is not None:
            _mark(ax, observed, city)
        people = int(sub["population"].values[i])
        ax.set_title(f"{city} ({people / 1e6:.2f} M)", fontsize=9, loc="left")
        ax.grid(axis="x", color="#eeeeee", lw=0.5)
    for ax in axes.flat[len(names) :]:
        ax.set_axis_off()
    start = np.datetime64("2022-01-01T00:00")
    axes[0, 0].set_xlim(start, start + np.timedelta64(19, "D"))
    axes[0, 0].set_ylim(0, top * 1.08)
    axes[0, 0].xaxis.set_major_locator(mdates.DayLocator(bymonthday=range(1, 20, 2)))
    axes[0, 0].xaxis.set_major_formatter(mdates.DateFormatter("%d"))
    for ax in axes[-1]:
        ax.set_xlabel("January 2022 (local time)")
    for ax in axes[:, 0]:
        ax.set_ylabel("share of citizens")
    fig.legend(
        handles=_legend(),
        loc="outside lower center",
        ncols=4,
        fontsize=8,
        frameon=False,
    )
    fig.suptitle(_title(ds), fontsize=11)
    return _save(fig, path, dpi=110)


def _mark(ax: Axes, observed: Observed, city: str) -> None:
    """Observed onset as a vertical line, seizure and retaking as triangles on the top edge."""
    if city in observed.onset:
        style = ":" if observed.onset_day_only.get(city, False) else "--"
        ax.axvline(mdates.date2num(observed.onset[city]), color="black", lw=0.9, ls=style)
    if city in observed.not_seized:
        ax.text(0.99, 0.9, "observed: no seizure", transform=ax.transAxes, ha="right", fontsize=7)
    top = ax.get_xaxis_transform()  # x in data, y in axes fraction
    marks = ((observed.seized, ACTIVE), (observed.retaken, "white"))
    for when, face in marks:
        if city in when:
            ax.plot(
                [mdates.date2num(when[city])],
                [1.0],
                marker="v",
                ms=7,
                mfc=face,
                mec=ACTIVE,
                transform=top,
                clip_on=False,
                zorder=4,
            )


def _legend() -> list[Any]:
    return [
        Line2D([], [], color=ACTIVE, lw=1.0, label="active (share)"),
        Line2D([], [], color=JAILED, lw=0.8, alpha=0.5, label="jailed (share)"),
        Patch(color=HELD, label="centre held"),
        Line2D([], [], color="black", lw=0.9, ls="--", label="observed first protest"),
        Line2D([], [], color="black", lw=0.9, ls=":", label="observed first protest (day only)"),
        Line2D([], [], ls="", marker="v", mfc=ACTIVE, mec=ACTIVE, label="observed akimat seized"),
        Line2D([], [], ls="", marker="v", mfc="white", mec=ACTIVE, label="observed retaken"),
    ]


def _save(fig: Figure, path: Path, dpi: int) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path
