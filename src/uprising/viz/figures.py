"""Figures of a run: quiet, active and jailed over time with outbursts shaded; the final grid."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402

from uprising.analysis import outbursts  # noqa: E402

COLOURS = {"quiet": "#4c72b0", "active": "#dd3b2a", "jailed": "#555555"}
GRID_COLOURS = [
    "#ffffff",
    "#9ab8de",
    "#dd3b2a",
    "#111111",
    "#f2b134",
]  # empty quiet active cop jailed
GRID_LABELS = ["empty", "quiet", "active", "cop", "jailed (on grid)"]


def _title(ds: xr.Dataset) -> str:
    a = ds.attrs
    return f"{a['scenario']} · rules {a['rules']} · seed {a['seed']}"


def timeseries(ds: xr.Dataset, path: Path) -> Path:
    steps = ds["step"].values
    fig, ax = plt.subplots(figsize=(10, 4), constrained_layout=True)
    threshold = outbursts.default_threshold(int(ds.attrs["cells"]))
    found = outbursts.find(ds["active"].values, threshold)
    for i, (s, e) in enumerate(zip(found.starts, found.ends, strict=True)):
        ax.axvspan(
            steps[s], steps[e - 1] + 1, color="#f6c6c0", lw=0, label="outburst" if i == 0 else None
        )
    for name, colour in COLOURS.items():
        ax.plot(steps, ds[name].values, color=colour, lw=1.1, label=name)
    ax.axhline(
        threshold,
        color=COLOURS["active"],
        lw=0.6,
        ls=":",
        label=f"outburst threshold ({threshold:g})",
    )
    ax.set(xlabel="step", ylabel="citizens", title=_title(ds), xlim=(steps[0], steps[-1]))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=5, fontsize=8, frameon=False)
    return _save(fig, path)


def grid(ds: xr.Dataset, path: Path) -> Path:
    kind = ds["grid"].values
    fig, ax = plt.subplots(figsize=(6, 6.4), constrained_layout=True)
    ax.imshow(kind, cmap=ListedColormap(GRID_COLOURS), vmin=-0.5, vmax=4.5, interpolation="nearest")
    ax.set(title=f"{_title(ds)}\nafter step {int(ds['step'].values[-1])}", xticks=[], yticks=[])
    shown = np.unique(kind)
    handles = [plt.Rectangle((0, 0), 1, 1, fc=GRID_COLOURS[k], ec="#999999") for k in shown]
    ax.legend(
        handles,
        [GRID_LABELS[k] for k in shown],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.01),
        ncols=len(shown),
        fontsize=8,
        frameon=False,
    )
    return _save(fig, path)


def _save(fig: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
