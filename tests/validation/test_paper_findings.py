"""The findings of Epstein (2002, PNAS 99 suppl. 3) for Model I, reproduced by the engine.

Engine only, default (faithful) partial update, fixed seeds. Every test prints what it measured
beside the paper's or the literature's numbers (run with -s to see them). The assertions check
the qualitative findings, not equality with the paper: its statistics come from one run each,
and reproductions differ (research/epstein-model.md in the design notes). Each bound is
justified where it is set.
"""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest
from scipy import stats

from uprising.analysis import outbursts
from uprising.engine import ACTIVE, COP, QUIET, Params, Schedule, World, init, run

pytestmark = pytest.mark.validation

SIDE = 40
CELLS = SIDE * SIDE


def _world(**kw: object) -> World:
    base = {
        "height": SIDE,
        "width": SIDE,
        "citizen_density": 0.7,
        "cop_density": 0.04,
        "citizen_vision": 7.0,
        "cop_vision": 7.0,
        "movement": True,
        "rules": "netlogo",
    }
    return World(**{**base, **kw})  # type: ignore[arg-type]


def _run(world: World, params: Params, seed: int, steps: int):
    k_init, k_run = jax.random.split(jax.random.PRNGKey(seed))
    final, obs = run(init(world, k_init), params, k_run, world, steps)
    return final, {name: np.asarray(v) for name, v in obs.items()}


# --- Run 2: punctuated equilibrium ------------------------------------------------------------

RUN2_SEEDS = range(6)
RUN2_STEPS = 2000


def test_run2_punctuated_equilibrium() -> None:
    """Outbursts of more than 50 actives recur at irregular intervals (paper: wait 60 +- 55,
    activation per outburst 708 +- 230)."""
    world = _world()
    params = Params.make(legitimacy=0.82, police=0.04, max_jail=30.0)
    waits, activation, counts = [], [], []
    for seed in RUN2_SEEDS:
        _, obs = _run(world, params, seed, RUN2_STEPS)
        found = outbursts.find(obs["active"], outbursts.PAPER_THRESHOLD)
        counts.append(found.count)
        waits.append(found.waits)
        activation.append(found.activation)
    w, a = np.concatenate(waits), np.concatenate(activation)
    print(
        f"\nrun 2 (netlogo rules, {len(RUN2_SEEDS)} seeds x {RUN2_STEPS} steps):"
        f" outbursts per seed {counts};"
        f" waiting time mean {w.mean():.1f} sd {w.std(ddof=1):.1f} (paper 60, 55);"
        f" activation per outburst mean {a.mean():.0f} sd {a.std(ddof=1):.0f} (paper 708, 230)"
    )
    # Outbursts occur and recur in every seed: at least one per 200 steps (reproductions of
    # run 2 with floor find one per 20 to 30 steps; the paper about one per 60 + duration).
    assert min(counts) >= RUN2_STEPS / 200, counts
    # Waiting times vary: punctuated equilibrium, not a periodic cycle (coefficient of variation
    # near 0). The paper's coefficient of variation is 55 / 60 = 0.9; the literal asynchronous
    # reference under NetLogo's rules (tests/reference.py, 4 seeds x 2,000 steps, measured when
    # this test was written) gives 0.31 to 0.37 per seed, so NetLogo's rules are more regular
    # than the paper's run. We ask for at least half the reference's lowest value in every seed.
    for seed_waits in waits:
        assert seed_waits.std(ddof=1) / seed_waits.mean() >= 0.15, seed_waits
    assert a.std(ddof=1) > 0


# --- Runs 3 and 4: a sudden drop of legitimacy is more dangerous than a gradual one -----------

RUN34_SEEDS = range(60)
RUN34_STEPS = 200


def _peak_actives(legitimacy: Schedule, seeds: range) -> np.ndarray:
    world = _world(cop_density=0.074)
    params = Params.make(legitimacy=legitimacy, police=0.074, max_jail=math.inf)
    return np.array([_run(world, params, s, RUN34_STEPS)[1]["active"].max() for s in seeds])


def test_run4_sudden_drop_peaks_higher_than_run3_gradual_decline() -> None:
    """Run 3: L = 0.9 falling 0.01 a step to 0.2 (reached at t = 70); run 4: L = 0.9, then 0.7
    from t = 77. Jmax = inf, cops 0.074. The literature found a higher peak of actives after the
    sudden drop in 17 of 20 seeds."""
    gradual = _peak_actives(Schedule.points([(0, 0.9), (70, 0.2)]), RUN34_SEEDS)
    sudden = _peak_actives(Schedule.points([(0, 0.9), (76, 0.9), (77, 0.7)]), RUN34_SEEDS)
    higher = int((sudden > gradual).sum())
    n = len(RUN34_SEEDS)
    # "In most seeds": a one-sided sign test that run 4's peak is the higher more often than
    # not, at 0.01 (with 60 paired seeds, at least 40 of 60). 60 seeds because an earlier engine
    # gave 22 of 30 (0.73), where a sign test at 0.01 over 30 seeds passes only about half the
    # time even though the finding holds; the current engine gives 51 of 60 (0.85).
    p = stats.binomtest(higher, n, 0.5, alternative="greater").pvalue
    print(
        f"\nruns 3/4 (netlogo rules, {n} paired seeds x {RUN34_STEPS} steps): sudden drop peaks"
        f" higher in {higher}/{n} = {higher / n:.2f} (literature 17/20 = 0.85),"
        f" sign test p {p:.2g};"
        f" peak actives gradual median {np.median(gradual):.0f},"
        f" sudden median {np.median(sudden):.0f}"
    )
    assert p < 0.01, (higher, gradual, sudden)


# --- Run 5: withdrawing the police tips society into rebellion --------------------------------

RUN5_SEEDS = range(8)
RUN5_STEPS = 600


def test_run5_police_withdrawal_tips_into_rebellion() -> None:
    """L = 0.8, Jmax = inf, cops 0.074 falling linearly to 0 over t = 50..550 (the schedule of
    the literature's reproduction; the paper does not give the rate), against a control run of
    the same seeds with the police kept at 0.074. The literature: every seed tips, peak 64-345 at
    t ~ 177."""
    world = _world(cop_density=0.074)
    withdrawal = Schedule.points([(0, 0.074), (50, 0.074), (550, 0.0)])
    peaks, control_peaks, tipped_at, cops_then = [], [], [], []
    for seed in RUN5_SEEDS:
        params = Params.make(legitimacy=0.8, police=withdrawal, max_jail=math.inf)
        _, obs = _run(world, params, seed, RUN5_STEPS)
        peaks.append(int(obs["active"].max()))
        above = np.flatnonzero(obs["active"] > outbursts.PAPER_THRESHOLD)
        tipped_at.append(int(above[0]) if above.size else -1)
        cops_then.append(int(obs["cops"][above[0]]) if above.size else -1)
        control = Params.make(legitimacy=0.8, police=0.074, max_jail=math.inf)
        control_peaks.append(int(_run(world, control, seed, RUN5_STEPS)[1]["active"].max()))
    higher = sum(p > c for p, c in zip(peaks, control_peaks, strict=True))
    print(
        f"\nrun 5 (netlogo rules, {len(RUN5_SEEDS)} seeds x {RUN5_STEPS} steps): peak actives"
        f" with withdrawal {peaks}, with police kept {control_peaks}; first step above 50"
        f" actives {tipped_at}, cops left then {cops_then} of 118"
        f" (literature: every seed tips, peak 64-345, t ~ 177)"
    )
    # Tipping: in every seed the withdrawal brings an outburst in the paper's sense (more than
    # 50 actives), and its peak beats the control's in every seed (a one-sided sign test at
    # 0.01 needs 8 of 8).
    assert min(peaks) > outbursts.PAPER_THRESHOLD, peaks
    n = len(RUN5_SEEDS)
    assert stats.binomtest(higher, n, 0.5, alternative="greater").pvalue < 0.01, (
        peaks,
        control_peaks,
    )


# --- Run 1: deceptive behaviour ---------------------------------------------------------------

RUN1_SEEDS = range(12)
RUN1_STEPS = 200


def _nearest_cop_distance(kind: np.ndarray, who: int) -> np.ndarray:
    """Torus (Euclidean) distance from each cell of kind `who` to the nearest cop."""
    h, w = kind.shape
    ys, xs = np.nonzero(kind == who)
    cy, cx = np.nonzero(kind == COP)
    dy = np.abs(ys[:, None] - cy[None, :])
    dx = np.abs(xs[:, None] - cx[None, :])
    dy, dx = np.minimum(dy, h - dy), np.minimum(dx, w - dx)
    return np.sqrt(dy**2 + dx**2).min(axis=1)


def test_run1_actives_stand_away_from_cops() -> None:
    """Run 1 (paper rules, v = 1.7, L = 0.89, Jmax 15, no movement, cops 0.04): actives turn out
    where no cop sees them, so they stand farther from the nearest cop than quiet citizens."""
    world = _world(citizen_vision=1.7, cop_vision=1.7, movement=False, rules="paper")
    params = Params.make(legitimacy=0.89, police=0.04, max_jail=15.0)
    gaps, shown = [], []
    for seed in RUN1_SEEDS:
        final, _ = _run(world, params, seed, RUN1_STEPS)
        kind = np.asarray(final.kind).reshape(SIDE, SIDE)
        if not (kind == ACTIVE).any():
            continue
        d_active = _nearest_cop_distance(kind, ACTIVE)
        d_quiet = _nearest_cop_distance(kind, QUIET)
        gaps.append(d_active.mean() - d_quiet.mean())
        shown.append(
            f"{int((kind == ACTIVE).sum())} actives at {d_active.mean():.2f},"
            f" quiet at {d_quiet.mean():.2f}"
        )
    print(
        f"\nrun 1 (paper rules, {len(RUN1_SEEDS)} seeds x {RUN1_STEPS} steps), mean distance to"
        f" the nearest cop: " + "; ".join(shown)
    )
    # Enough seeds end with actives to judge, and in them actives stand farther from cops: a
    # one-sided sign test over seeds at 0.01 (with 12 seeds, at least 11 of 12 gaps positive).
    assert len(gaps) >= 8, shown
    positive = int((np.array(gaps) > 0).sum())
    assert stats.binomtest(positive, len(gaps), 0.5, alternative="greater").pvalue < 0.01, gaps
