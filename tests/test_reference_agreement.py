"""The engine against the literal asynchronous reference (tests/reference.py), statistically.

The engine updates agents in parallel groups; the published model moves agents one at a time in
random order. Agreement is therefore a statement about distributions: for each rule set, both
sides run SEEDS seeds of the same small world (20x20 torus, vision 4, legitimacy 0.82, cops 0.04,
Jmax 30: run 2 in miniature, where all three rule sets show outbursts above the paper's threshold
scaled to the grid, 12.5 actives) for STEPS steps, and the per-run metrics of
`reference.METRICS` are compared with a two-sided Mann-Whitney U test (the metrics are skewed,
bounded and discrete, so no normality is assumed), Holm-corrected over the metrics.

ALPHA = 0.01, family-wise per rule set. The seeds are fixed, so each test is deterministic, but
every change to the engine's random streams redraws its sample: over the project's life the test
is in effect re-run many times, and at 0.01 a correct engine fails about once in a hundred
redraws, rare enough that a failure deserves a look. The level is the only tolerance; there are
no hand-set bounds. The power checks at the end show that the same procedure, at the same level
and sample sizes, does detect known departures (a synchronous engine; legitimacy 0.80 instead of
0.82), so passing is not vacuous.

These tests found two discrepancies, both fixed in commit 6305453: the engine moved every agent
before any acted (the published models move and act within each agent's own turn), and its
partial update cut n agents into blocks of ceil(n / substeps), so 16 cops with 32 substeps all
acted in the first half of each step. Before the fix all three rule sets failed here (NetLogo:
117 against 91 outbursts per 1,000 steps, p < 1e-7). Should the engine disagree again, keep the
test honest: mark it xfail(strict=True) with the reason, never widen it.
Run with `-s` to see the table of means, standard deviations and p-values per metric.
"""

from __future__ import annotations

import math
import random
from functools import cache

import numpy as np
import pytest
from reference import (
    METRICS,
    RULES,
    TRIES,
    compare_samples,
    format_table,
    neighbour_table,
    offsets,
    run_engine,
    run_metrics,
    simulate_reference,
)

SETTINGS = {
    "height": 20,
    "width": 20,
    "citizen_density": 0.7,
    "cop_density": 0.04,
    "citizen_vision": 4,
    "cop_vision": 4,
    "legitimacy": 0.82,
    "k": 2.3,
    "threshold": 0.1,
    "max_jail": 30,
    "movement": True,
}
CELLS = SETTINGS["height"] * SETTINGS["width"]
STEPS = 300
SEEDS = 40
"""Seeds per side: enough for the power checks below to reject at ALPHA, cheap at this size."""
ALPHA = 0.01
"""Family-wise level per rule set, Holm-corrected over METRICS (why 0.01: module docstring)."""
ENGINE_SEEDS = tuple(range(SEEDS))
REFERENCE_SEEDS = tuple(range(10_000, 10_000 + SEEDS))


@cache
def reference_sample(rules: str, legitimacy: float = 0.82) -> tuple[dict[str, float], ...]:
    settings = {**SETTINGS, "legitimacy": legitimacy}
    return tuple(
        run_metrics(simulate_reference(rules, steps=STEPS, seed=seed, **settings), CELLS)
        for seed in REFERENCE_SEEDS
    )


@cache
def engine_sample(rules: str, substeps: int = 32) -> tuple[dict[str, float], ...]:
    runs = run_engine(rules, list(ENGINE_SEEDS), STEPS, substeps=substeps, **SETTINGS)
    return tuple(run_metrics(series, CELLS) for series in runs)


def _compare(title: str, a, b) -> tuple[dict[str, dict[str, float]], str]:
    rows = compare_samples(list(a), list(b), ALPHA)
    table = format_table(title, rows)
    print("\n" + table)
    return rows, table


@pytest.mark.parametrize("rules", RULES)
def test_engine_agrees_with_reference(rules: str) -> None:
    rows, table = _compare(
        f"{rules}: engine (substeps 32) vs reference, {SEEDS} seeds x {STEPS} steps",
        engine_sample(rules),
        reference_sample(rules),
    )
    # Outbursts must occur on both sides, or the outburst metrics would test nothing.
    assert rows["outbursts_per_1000"]["engine_mean"] > 0, table
    assert rows["outbursts_per_1000"]["reference_mean"] > 0, table
    differ = [name for name, row in rows.items() if row["significant"]]
    assert not differ, f"engine and reference differ in {differ} at family-wise {ALPHA}\n{table}"


def test_procedure_detects_a_synchronous_engine() -> None:
    """Power: with every agent acting at once (substeps=1) the same test must reject."""
    rows, table = _compare(
        f"netlogo: engine (substeps 1) vs reference, {SEEDS} seeds x {STEPS} steps",
        engine_sample("netlogo", substeps=1),
        reference_sample("netlogo"),
    )
    assert any(row["significant"] for row in rows.values()), table


def test_procedure_detects_a_small_shift_of_legitimacy() -> None:
    """Power: the reference against itself at legitimacy 0.80 instead of 0.82 must differ."""
    rows, table = _compare(
        f"netlogo: reference at L 0.80 vs at L 0.82, {SEEDS} seeds x {STEPS} steps",
        reference_sample("netlogo", legitimacy=0.80),
        reference_sample("netlogo"),
    )
    assert any(row["significant"] for row in rows.values()), table


# --- The reference itself --------------------------------------------------------------------


def test_vision_shapes_match_the_published_counts() -> None:
    assert len(offsets(7, "disk", centre=True)) == 149  # NetLogo in-radius 7: 148 + own patch
    assert len(offsets(1.7, "disk", centre=False)) == 8  # the paper's v = 1.7: the 8 neighbours
    assert len(offsets(7, "diamond", centre=False)) == 112  # Mesa's von Neumann radius 7
    table = neighbour_table(15, 15, 7, "disk", False)
    assert all(len(set(cells)) == 148 for cells in table)


@pytest.mark.parametrize("rules", RULES)
def test_reference_conserves_citizens_and_cops(rules: str) -> None:
    out = simulate_reference(rules, steps=60, seed=3, **SETTINGS)
    total = out["quiet"] + out["active"] + out["jailed"]
    assert (total == total[0]).all()
    assert out["active"].max() > 0 and out["jailed"].max() > 0
    grid = out["grid"]
    # NetLogo and the paper let a released citizen share a cell, so only Mesa's grid is exact.
    exact = rules == "mesa"
    for kind, count in ((3, out["cops"][-1]), (2, out["active"][-1])):
        assert (grid == kind).sum() == count if exact else 0 < (grid == kind).sum() <= count


@pytest.mark.parametrize("rules", RULES)
def test_reference_without_grievance_or_cops(rules: str) -> None:
    calm = simulate_reference(rules, steps=20, seed=1, **{**SETTINGS, "legitimacy": 1.0})
    assert calm["active"].max() == 0 and calm["jailed"].max() == 0
    no_cops = simulate_reference(rules, steps=20, seed=1, **{**SETTINGS, "cop_density": 0.0})
    assert no_cops["jailed"].max() == 0 and no_cops["active"][-1] > 0


@pytest.mark.parametrize("rules", RULES)
def test_reference_life_sentences_and_police_schedule(rules: str) -> None:
    settings = {**SETTINGS, "max_jail": math.inf, "legitimacy": 0.7}
    out = simulate_reference(rules, steps=40, seed=2, police=lambda t: 0.04 * (t < 20), **settings)
    assert (np.diff(out["jailed"]) >= 0).all()  # nobody is ever released
    assert out["cops"][19] == out["cops"][0] > 0 and out["cops"][20] == 0


def test_metrics_of_a_known_series() -> None:
    active = np.zeros(200, np.int64)
    active[10:20] = 20  # outbursts above 12.5 at t = 10..19, 60..64 and 100..101
    active[60:65] = 13
    active[100:102] = 50
    jailed = np.arange(200)
    series = {"active": active, "jailed": jailed, "quiet": 280 - active - jailed}
    m = run_metrics(series, CELLS)
    assert set(m) == set(METRICS)
    assert m["outbursts_per_1000"] == 15.0
    assert m["mean_wait"] == ((60 - 20) + (100 - 65)) / 2
    assert m["peak_active"] == 50 / 280 and m["jailed_t50"] == 49 / 280


# --- The reference's bookkeeping against a naive recount ---------------------------------------


def _naive(rules: str, side: int, steps: int, seed: int, **kw: float) -> np.ndarray:
    """The same model with no incremental state: every count is a fresh scan of all agents.

    It makes the same random draws in the same order as `simulate_reference`, so the two must
    give identical counts; any slip in the reference's incremental bookkeeping shows up here.
    """
    cd, pd, v, legit, k, thr, jmax = (
        kw["citizen_density"],
        kw["cop_density"],
        kw["vision"],
        kw["legitimacy"],
        kw["k"],
        kw["threshold"],
        kw["max_jail"],
    )
    mesa, paper = rules == "mesa", rules == "paper"
    rng = random.Random(seed)
    shuffler = np.random.default_rng([seed, 1])
    cells = side * side
    shape = "diamond" if mesa else "disk"
    sees = neighbour_table(side, side, v, shape, not (mesa or paper))
    moves = neighbour_table(side, side, v, shape, False)
    if mesa:
        cit, cop = [], []
        for c in range(cells):
            u = rng.random()
            if u < cd:
                cit.append(c)
            elif u < cd + pd:
                cop.append(c)
    else:
        placed = rng.sample(range(cells), round(cd * cells) + round(pd * cells))
        cit, cop = placed[: round(cd * cells)], placed[round(cd * cells) :]
    n_cit, n_cop = len(cit), len(cop)
    hardship = [rng.random() for _ in range(n_cit)]
    risk = [rng.random() for _ in range(n_cit)]
    active, arrested, jail = [False] * n_cit, [False] * n_cit, [0] * n_cit

    def allowed(x: int) -> bool:
        if x in cop:
            return False
        return all(jail[i] > 0 for i in range(n_cit) if cit[i] == x) and not (mesa and x in cit)

    def target(nb: tuple[int, ...]) -> int:
        for _ in range(TRIES):
            x = nb[int(rng.random() * len(nb))]
            if allowed(x):
                return x
        ok = [x for x in nb if allowed(x)]
        return ok[int(rng.random() * len(ok))] if ok else -1

    def decide(i: int) -> None:
        seen = set(sees[cit[i]])
        c = sum(1 for p in cop if p in seen)
        a = 1 + sum(1 for j in range(n_cit) if active[j] and cit[j] in seen and j != i)
        a += active[i] and not (mesa or paper)  # NetLogo counts an active citizen twice
        ratio = round(c / a) if mesa else c / a if paper else c // a
        g = hardship[i] * (1 - legit)
        active[i] = g - risk[i] * (1 - math.exp(-k * ratio)) > thr
        arrested[i] = False

    def arrest(j: int) -> None:
        rank = {x: r for r, x in enumerate(sees[cop[j]])}
        suspects = sorted(
            (i for i in range(n_cit) if active[i] and cit[i] in rank), key=lambda i: rank[cit[i]]
        )
        if suspects:
            s = suspects[int(rng.random() * len(suspects))]
            if rules == "netlogo":
                cop[j] = cit[s]
            active[s], arrested[s] = False, mesa
            jail[s] = rng.randint(0, jmax) if mesa else rng.randrange(jmax + paper)

    counts = []
    for _ in range(steps):
        for a in shuffler.permutation(n_cit + n_cop).tolist():
            if a < n_cit and jail[a]:
                jail[a] -= mesa  # Mesa counts down in the prisoner's turn
            elif a < n_cit:
                if not mesa:
                    x = target(moves[cit[a]])
                    cit[a] = x if x >= 0 else cit[a]
                decide(a)
                if mesa:
                    x = target(moves[cit[a]])
                    cit[a] = x if x >= 0 else cit[a]
            else:
                if not mesa:
                    x = target(moves[cop[a - n_cit]])
                    cop[a - n_cit] = x if x >= 0 else cop[a - n_cit]
                arrest(a - n_cit)
                if mesa:
                    x = target(moves[cop[a - n_cit]])
                    cop[a - n_cit] = x if x >= 0 else cop[a - n_cit]
        if not mesa:
            jail = [max(j - 1, 0) for j in jail]
        n_active = sum(active)
        n_jailed = sum(arrested) if mesa else sum(j > 0 for j in jail)
        counts.append((n_cit - n_active - n_jailed, n_active, n_jailed))
    return np.array(counts)


@pytest.mark.parametrize("rules", RULES)
@pytest.mark.parametrize("seed", [0, 1])
def test_reference_matches_a_naive_recount(rules: str, seed: int) -> None:
    kw = {
        "citizen_density": 0.7,
        "cop_density": 0.05,
        "vision": 3,
        "legitimacy": 0.75,
        "k": 2.3,
        "threshold": 0.1,
        "max_jail": 6,
    }
    naive = _naive(rules, 13, 30, seed, **kw)
    out = simulate_reference(
        rules,
        height=13,
        width=13,
        citizen_density=kw["citizen_density"],
        cop_density=kw["cop_density"],
        citizen_vision=kw["vision"],
        cop_vision=kw["vision"],
        legitimacy=kw["legitimacy"],
        max_jail=kw["max_jail"],
        steps=30,
        seed=seed,
    )
    ref = np.stack([out["quiet"], out["active"], out["jailed"]], axis=1)
    assert naive[:, 1].max() > 10 and naive[:, 2].max() > 5  # a busy run, or it proves little
    np.testing.assert_array_equal(ref, naive)
