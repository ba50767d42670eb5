"""Figure of a Sobol sensitivity analysis: first and total order indices per parameter, with
their 95% bootstrap intervals, one panel per metric.

Built on ``matplotlib.figure.Figure`` rather than pyplot, so it keeps no global state.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

S1_COLOUR, ST_COLOUR = "#4c72b0", "#dd8452"
XLIM = (-0.2, 1.2)
"""Indices lie in 0..1; estimates and intervals at small N may not, and are cut here."""


def indices(table: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Bars of S1 and ST (whiskers: the 95% intervals) per parameter, a panel per metric.
    A metric that did not vary over the design has no bars, and says so."""
    metrics = list(dict.fromkeys(table["metric"]))
    params = list(dict.fromkeys(table["param"]))
    fig = Figure(figsize=(4.2 * len(metrics) + 1.5, 0.55 * len(params) + 2.0), layout="constrained")
    axes = fig.subplots(1, len(metrics), sharey=True, squeeze=False)[0]
    y = np.arange(len(params))
    height = 0.38
    for ax, metric in zip(axes, metrics, strict=True):
        rows = table[table["metric"] == metric].set_index("param").reindex(params)
        if rows["ST"].isna().all():
            ax.text(0.5, 0.5, "no variance over the design", ha="center", va="center",
                    transform=ax.transAxes, color="#666666")  # fmt: skip
        for shift, name, colour in ((-height / 2, "S1", S1_COLOUR), (height / 2, "ST", ST_COLOUR)):
            values = rows[name].to_numpy(float)
            conf = rows[f"{name}_conf"].to_numpy(float)
            ax.barh(y + shift, np.nan_to_num(values), height, color=colour,
                    xerr=np.nan_to_num(conf), error_kw={"lw": 0.8, "capsize": 2})  # fmt: skip
        ax.axvline(0.0, color="#333333", lw=0.6)
        ax.set_xlim(*XLIM)
        reach = np.concatenate(
            [rows[k] + s * rows[f"{k}_conf"] for k in ("S1", "ST") for s in (-1, 1)]
        )
        if np.any((reach < XLIM[0]) | (reach > XLIM[1])):
            ax.text(0.98, 0.02, "intervals clipped", ha="right", va="bottom", fontsize=7,
                    transform=ax.transAxes, color="#666666")  # fmt: skip
        ax.set_title(metric, fontsize=10)
        ax.set_xlabel("Sobol index (share of variance)")
        ax.grid(axis="x", color="#dddddd", lw=0.5)
        ax.set_axisbelow(True)
    axes[0].set_yticks(y, params, fontsize=8)
    axes[0].invert_yaxis()
    fig.legend(
        handles=[
            Patch(color=S1_COLOUR, label="S1: the parameter alone"),
            Patch(color=ST_COLOUR, label="ST: with its interactions (and chance)"),
        ],
        loc="outside lower center",
        ncols=2,
        fontsize=8,
        frameon=False,
    )
    if title:
        fig.suptitle(title, fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return path
