"""Outbursts of rebellion in a time series of active citizens (Epstein 2002, run 2).

An outburst is a maximal run of steps with more actives than a threshold (the paper: 50 on a
40x40 grid). Its size is the activation it sums (active citizens added over its steps), and the
waiting time is the number of calm steps between the end of one outburst and the start of the next.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PAPER_THRESHOLD = 50
PAPER_CELLS = 40 * 40


def default_threshold(cells: int) -> float:
    """The paper's 50 actives on 1,600 cells, scaled to the grid."""
    return PAPER_THRESHOLD * cells / PAPER_CELLS


@dataclass(frozen=True)
class Outbursts:
    starts: np.ndarray
    ends: np.ndarray  # exclusive
    peaks: np.ndarray
    activation: np.ndarray

    @property
    def count(self) -> int:
        return int(self.starts.size)

    @property
    def waits(self) -> np.ndarray:
        return self.starts[1:] - self.ends[:-1]

    def summary(self, steps: int) -> dict[str, float]:
        nan = float("nan")
        waits = self.waits
        return {
            "outbursts": self.count,
            "outbursts_per_1000": 1000.0 * self.count / max(steps, 1),
            "mean_wait": float(waits.mean()) if waits.size else nan,
            "sd_wait": float(waits.std(ddof=1)) if waits.size > 1 else nan,
            "mean_activation": float(self.activation.mean()) if self.count else nan,
            "sd_activation": float(self.activation.std(ddof=1)) if self.count > 1 else nan,
            "mean_outburst_peak": float(self.peaks.mean()) if self.count else nan,
        }


def find(active: np.ndarray, threshold: float) -> Outbursts:
    """Outbursts in a 1-D series of active counts."""
    active = np.asarray(active)
    above = np.concatenate([[False], active > threshold, [False]])
    edges = np.flatnonzero(np.diff(above.astype(np.int8)))
    starts, ends = edges[0::2], edges[1::2]
    sums = np.concatenate([[0], np.cumsum(active)])
    peaks = np.array([active[s:e].max() for s, e in zip(starts, ends, strict=True)], dtype=float)
    return Outbursts(starts, ends, peaks, (sums[ends] - sums[starts]).astype(float))
