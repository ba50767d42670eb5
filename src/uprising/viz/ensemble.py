"""The figure of an ensemble: outcome probabilities with their intervals, and the spread of sizes.

Sizes span orders of magnitude across runs, so peak, deaths and detentions are drawn on a log
scale, with what happened marked.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from uprising.analysis import outcome
from uprising.run.ensemble import SIZES, Ensemble

COLOURS = ("#3b6fb6", "#dd3b2a", "#4a9a5b", "#8a5bb0")
LABELS = {
    "peak_active": "peak participants",
    "deaths": "deaths",
    "detentions": "detentions",
    "duration_hours": "duration (hours above 10% of peak)",
}


def ensemble_figure(
    ensembles: list[Ensemble], path: Path, observed: dict[str, float] | None = None
) -> Path:
    """One panel of outcome probabilities (95% Wilson intervals), one per size metric."""
    fig = Figure(figsize=(13, 7), layout="constrained")
    grid = fig.add_gridspec(2, 3)
    bars = fig.add_subplot(grid[:, 0])
    width = 0.8 / len(ensembles)
    x = np.arange(len(outcome.OUTCOMES))
    for i, (ens, colour) in enumerate(zip(ensembles, COLOURS, strict=False)):
        probs = ens.probabilities()
        p = np.array([probs[o]["p"] for o in outcome.OUTCOMES])
        # (clipped: the Wilson bounds of 0 or n hits sit on p up to rounding)
        low = np.maximum(p - np.array([probs[o]["low"] for o in outcome.OUTCOMES]), 0)
        high = np.maximum(np.array([probs[o]["high"] for o in outcome.OUTCOMES]) - p, 0)
        label = f"{ens.variant or ens.scenario} ({ens.runs} runs)"
        bars.bar(x + i * width, p, width, color=colour, label=label)
        bars.errorbar(x + i * width, p, yerr=[low, high], fmt="none", ecolor="black", capsize=3)
    bars.set_xticks(
        x + width * (len(ensembles) - 1) / 2, [o.replace("_", " ") for o in outcome.OUTCOMES]
    )
    bars.set_ylim(0, 1)
    bars.set_ylabel("probability (95% interval)")
    bars.legend(loc="upper right", fontsize=8)
    bars.set_title("How it ends")
    for k, name in enumerate(SIZES):
        ax = fig.add_subplot(grid[k // 2, 1 + k % 2])
        log = name != "duration_hours"

        def shown(values: np.ndarray, log: bool = log) -> np.ndarray:
            return np.log10(np.maximum(values, 1)) if log else values

        series = [shown(ens.table[name].to_numpy(float)) for ens in ensembles]
        mark = observed.get(name) if observed else None
        ends = np.concatenate([*series, shown(np.array([mark]))] if mark is not None else series)
        bins = np.linspace(ends.min(), max(ends.max(), ends.min() + 1e-9), 31)  # shared by all
        for values, colour in zip(series, COLOURS, strict=False):
            ax.hist(values, bins=bins.tolist(), color=colour, alpha=0.55)
        if mark is not None:
            ax.axvline(float(shown(np.array([mark]))[0]), color="black", linestyle="--")
            ax.legend(["observed"], fontsize=8)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(("log10 " if log else "") + LABELS[name])
        ax.set_ylabel("runs")
    runs = " and ".join(str(e.runs) for e in ensembles)
    fig.suptitle(f"{ensembles[0].scenario}: ensembles of {runs} runs")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path
