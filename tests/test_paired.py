"""Paired comparison of a variant with its base: counts, tests and intervals on known inputs."""

from __future__ import annotations

import numpy as np
import pytest

from uprising.analysis.paired import median_interval, paired


def _run(outcome: str, peak: float, deaths: float = 0.0) -> dict:
    national = {"outcome": outcome, "peak_participants": peak, "deaths": deaths, "detentions": 0.0}
    return {"national": national}


def test_outcomes_count_only_the_pairs_that_differ() -> None:
    base = [_run("suppressed", 10)] * 10
    variant = [_run("regime_falls", 10)] * 9 + [_run("suppressed", 10)]
    block = paired(base, variant)
    falls, suppressed = block["outcomes"]["regime_falls"], block["outcomes"]["suppressed"]
    assert (falls["base"], falls["variant"], falls["only_variant"]) == (0, 9, 9)
    assert suppressed["only_base"] == 9 and suppressed["only_variant"] == 0
    assert falls["p_value"] == pytest.approx(2 * 0.5**9)  # exact McNemar: 9 of 9 discordant
    assert block["outcomes"]["prolonged"]["p_value"] == 1.0  # no discordant pair
    assert block["sizes"]["peak_participants"]["tied"] == 10


def test_size_changes_are_paired_not_pooled() -> None:
    """Each variant run is its base run plus 5: the pooled spread (0..190) hides it, pairs do
    not."""
    rng = np.random.default_rng(1)
    peaks = rng.uniform(0, 190, 20)
    block = paired(
        [_run("suppressed", p) for p in peaks], [_run("suppressed", p + 5) for p in peaks]
    )
    row = block["sizes"]["peak_participants"]
    assert row["median_difference"] == pytest.approx(5.0)
    assert row["low"] == pytest.approx(5.0) and row["high"] == pytest.approx(5.0)
    assert row["rose"] == 20 and row["p_value"] < 1e-5


def test_themedian_interval_covers_at_its_level() -> None:
    """Over 4,000 samples of 20 heavy-tailed differences (Cauchy, median 1) the interval covers
    the median at least 95% of the time: exactly 1 - 2 P(Bin(20, 1/2) <= 5) = 95.9%, so with a
    binomial standard error of 0.3% the observed share lies above 94.9% unless the interval is
    wrong."""
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(4000):
        low, high = median_interval(rng.standard_cauchy(20) + 1.0)
        hits += low <= 1.0 <= high
    assert hits / 4000 > 0.949
    assert median_interval(np.arange(5.0)) is None  # 5 pairs cannot reach 95%
    assert median_interval(np.arange(20.0)) == (5.0, 14.0)  # d_(6) .. d_(15)


def test_unpaired_lists_are_refused() -> None:
    with pytest.raises(ValueError, match="as many"):
        paired([_run("suppressed", 1)], [])
