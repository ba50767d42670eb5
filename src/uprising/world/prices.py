"""Prices drive hardship: a sudden shock differs from a gradual rise.

The seed: "the price for the liquefied gas ... unexpectedly doubled. This enraged people", while
"That cost has grown steadily for the past ten years". People judge a price against the one they
are used to, which adapts with time constant `adaptation` (hours): the hardship a price adds is
`sensitivity * max(0, ln(price / reference))`. A doubling overnight adds sensitivity * ln 2; the
same doubling spread over a year adds little at any moment (Epstein's "salami tactics").
"""

from __future__ import annotations

import numpy as np


def reference_gap(price: np.ndarray, adaptation: float) -> np.ndarray:
    """ln(price / reference) where it is positive, hour by hour (first axis), price > 0."""
    reference = np.empty_like(price)
    reference[0] = price[0]
    rate = -np.expm1(-1.0 / adaptation)  # exact for an hour: never overshoots the price
    for h in range(1, len(price)):
        reference[h] = reference[h - 1] + rate * (price[h - 1] - reference[h - 1])
    return np.maximum(np.log(price / reference), 0.0)


def hourly(points: list[tuple[float, float]], first: int, last: int) -> np.ndarray:
    """A price from (hour, price) points, linear between them, on hours first..last-1."""
    hours = np.arange(first, last, dtype=np.float64)
    times, values = zip(*points, strict=True)
    return np.interp(hours, np.asarray(times, np.float64), np.asarray(values, np.float64))


def hardship(
    points: list[tuple[float, float]], hours: int, sensitivity: float, adaptation: float
) -> np.ndarray:
    """The hardship a region's price adds in each of the run's hours.

    `points` may start before the run (hour < 0): the reference price adapts from the first one.
    """
    first = min(0, int(np.floor(points[0][0])))
    gap = reference_gap(hourly(points, first, hours), adaptation)
    return sensitivity * gap[-first:]
