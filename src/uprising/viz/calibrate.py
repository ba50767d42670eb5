"""Figure of an ABC-SMC calibration: the marginal posterior of each parameter over its prior range.

Per parameter: a weighted histogram of the last population, its weighted Gaussian KDE, the
(uniform) prior's density, the 5-95% interval and the scenario's own value. Built on
``matplotlib.figure.Figure`` rather than pyplot, so it keeps no global state.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from scipy.stats import gaussian_kde

POSTERIOR, PRIOR, SCENARIO = "#4c72b0", "#999999", "#dd3b2a"


def marginals(posterior: pd.DataFrame, summary: pd.DataFrame, path: Path, title: str = "") -> Path:
    """One panel per parameter of `summary` (rows: param, prior_low, prior_high, scenario,
    q05, q95), from the weighted particles of `posterior` (a column per param, `weight`)."""
    n = len(summary)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(4.2 * cols, 3.0 * rows + 0.6), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    w = posterior["weight"].to_numpy(float)
    for ax, (_, row) in zip(axes, summary.iterrows(), strict=False):
        key, low, high = str(row["param"]), float(row["prior_low"]), float(row["prior_high"])
        v = posterior[key].to_numpy(float)
        ax.hist(v, bins=np.linspace(low, high, 21), weights=w, density=True, color=POSTERIOR,
                alpha=0.35, label="posterior")  # fmt: skip
        grid = np.linspace(low, high, 200)
        if len(np.unique(v)) > 1 and np.sum(w > 0) > 1:
            try:
                kde = gaussian_kde(v, weights=w)
                ax.plot(grid, kde(grid), color=POSTERIOR, lw=1.4, label="posterior KDE")
            except np.linalg.LinAlgError:
                pass
        ax.hlines(1.0 / (high - low), low, high, colors=PRIOR, linestyles="--", lw=1.2,
                  label="prior (uniform)")  # fmt: skip
        ax.axvspan(float(row["q05"]), float(row["q95"]), color=POSTERIOR, alpha=0.08, lw=0,
                   label="5-95%")  # fmt: skip
        if row.get("scenario") is not None and np.isfinite(float(row["scenario"])):
            ax.axvline(float(row["scenario"]), color=SCENARIO, lw=1.0, label="scenario value")
        ax.set_xlim(low, high)
        ax.set_title(key, fontsize=9)
        ax.set_ylabel("density", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.ticklabel_format(axis="both", style="sci", scilimits=(-3, 4))
        ax.xaxis.get_offset_text().set_fontsize(7)
        ax.yaxis.get_offset_text().set_fontsize(7)
    for ax in axes[n:]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=5, fontsize=8, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return path
