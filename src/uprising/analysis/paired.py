"""A variant against its base, run for run: what the change alone does.

A variant shares its base's random numbers seed for seed (`remove_events` switches events off
and keeps their slots), so the run of seed s with and without a change differ only by the
change. Comparing the two runs of each seed removes the run-to-run noise that two separate
ensembles carry: a small effect shows in a few dozen pairs.

- Outcomes: per outcome, the pairs where only the base ends that way and those where only the
  variant does (pairs that agree say nothing about the change); an exact two-sided McNemar test
  (a binomial test of the discordant pairs).
- Sizes (peak participants, deaths, detentions): the median of the paired differences (variant
  minus base) with its distribution-free 95% interval from order statistics (the sign test's
  interval, valid for any distribution of differences), and how many pairs rose, fell or tied.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from uprising.analysis import outcome
from uprising.analysis.compare import SIZES


def median_interval(diff: np.ndarray, level: float = 0.95) -> tuple[float, float] | None:
    """Order-statistic interval of the median difference, or None when n is too small (< 6
    pairs cannot reach 95%)."""
    n = diff.size
    # The smallest k with P(X <= k) >= (1 - level) / 2, X ~ Binomial(n, 1/2), so P(X < k) is
    # below it: d_(k)..d_(n+1-k) covers the median difference with at least `level`.
    k = int(stats.binom.ppf((1 - level) / 2, n, 0.5))
    if k < 1:
        return None
    d = np.sort(diff)
    return float(d[k - 1]), float(d[n - k])


def paired(base: list[dict[str, Any]], variant: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-run comparisons (`analysis.compare.compare`) of the same seeds, base and variant."""
    if len(base) != len(variant) or not base:
        raise ValueError(
            f"paired runs need as many variant runs as base runs, got {len(base)}"
            f" and {len(variant)}"
        )
    n = len(base)
    outcomes: dict[str, Any] = {}
    for name in outcome.OUTCOMES:
        was = np.asarray([r["national"]["outcome"] == name for r in base])
        now = np.asarray([r["national"]["outcome"] == name for r in variant])
        only_base, only_variant = int((was & ~now).sum()), int((now & ~was).sum())
        discordant = only_base + only_variant
        p = stats.binomtest(only_variant, discordant, 0.5).pvalue if discordant else 1.0
        outcomes[name] = {
            "base": int(was.sum()),
            "variant": int(now.sum()),
            "only_base": only_base,
            "only_variant": only_variant,
            "p_value": float(p),
        }
    sizes: dict[str, Any] = {}
    for key in SIZES:
        diff = np.asarray(
            [v["national"][key] - b["national"][key] for b, v in zip(base, variant, strict=True)]
        )
        interval = median_interval(diff)
        rose, fell = int((diff > 0).sum()), int((diff < 0).sum())
        p = stats.binomtest(rose, rose + fell, 0.5).pvalue if rose + fell else 1.0
        sizes[key] = {
            "median_difference": float(np.median(diff)),
            "low": None if interval is None else interval[0],
            "high": None if interval is None else interval[1],
            "rose": rose,
            "fell": fell,
            "tied": n - rose - fell,
            "p_value": float(p),
        }
    return {"pairs": n, "outcomes": outcomes, "sizes": sizes}
