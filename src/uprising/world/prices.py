"""Prices drive hardship: a sudden shock differs from a gradual rise.

The seed: "the price for the liquefied gas ... unexpectedly doubled. This enraged people", while
"That cost has grown steadily for the past ten years". People judge a price against the one they
are used to, which adapts with time constant `adaptation` (hours): the hardship a price adds is
`sensitivity * max(0, ln(price / reference))`. A doubling overnight adds sensitivity * ln 2; the
same doubling spread over a year adds little at any moment (Epstein's "salami tactics").
A new price is felt over `felt` hours (a lag: people meet it as they next buy fuel), not at once.
"""

from __future__ import annotations

import numpy as np


def follow(series: np.ndarray, hours: float) -> np.ndarray:
    """`series` followed with an exponential lag of time constant `hours`, from its first value.

    Exact for hourly steps: the follower never overshoots what it follows."""
    out = np.empty_like(series)
    out[0] = series[0]
    rate = -np.expm1(-1.0 / hours)
    for h in range(1, len(series)):
        out[h] = out[h - 1] + rate * (series[h - 1] - out[h - 1])
    return out


def reference_gap(price: np.ndarray, adaptation: float) -> np.ndarray:
    """ln(price / reference) where it is positive, hour by hour (first axis), price > 0."""
    return np.maximum(np.log(price / follow(price, adaptation)), 0.0)


def hourly(points: list[tuple[float, float]], first: int, last: int) -> np.ndarray:
    """A price from (hour, price) points, linear between them, on hours first..last-1."""
    hours = np.arange(first, last, dtype=np.float64)
    times, values = zip(*points, strict=True)
    return np.interp(hours, np.asarray(times, np.float64), np.asarray(values, np.float64))


def hardship(
    points: list[tuple[float, float]],
    hours: int,
    sensitivity: float,
    adaptation: float,
    felt: float = 0.0,
) -> np.ndarray:
    """The hardship a region's price adds in each of the run's hours.

    `points` may start before the run (hour < 0): the reference price adapts from the first one.
    """
    first = min(0, int(np.floor(points[0][0])))
    gap = reference_gap(hourly(points, first, hours), adaptation)
    if felt > 0:  # people meet the new price as they next buy fuel
        gap = follow(gap, felt)
    return sensitivity * gap[-first:]
