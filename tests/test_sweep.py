"""Sweeps: the file format and its errors, expansion, results equal to single runs, resuming after
kill -9, and a real Dask cluster on loopback giving the table a local sweep gives."""

from __future__ import annotations

import fcntl
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import jax
import pandas as pd
import pytest
from typer.testing import CliRunner

from uprising.cli import app
from uprising.run.results import read_metadata
from uprising.run.sweep import RESULTS, sweep
from uprising.scenarios.sweep import SERIES, SweepError, plan, read_sweep

SWEEP = """
scenario = "epstein-run1"
seeds = 3
steps = 200
sample_seed = 1
metrics = ["peak_active", "mean_active", "final_jailed", "mean_wait"]
series = ["active", "jailed"]
every = 50

[parameters]
height = 20
width = 20
legitimacy = [0.7, 0.85]
threshold = { distribution = "uniform", low = 0.05, high = 0.15, samples = 2 }
"""
"""4 points x 3 seeds of a 20x20 world, 200 steps: one compiled shape, about 0.1 s a run."""
TASKS = 12


@pytest.fixture(scope="session")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder that the xdist workers of this session share (else this session's own), so that
    the reference sweep and the compile cache are made once, not once per worker."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    (root / "sweep-tests").mkdir(exist_ok=True)
    return root / "sweep-tests"


@contextmanager
def alone(shared: Path) -> Iterator[None]:
    """Held while one worker makes what the others then read."""
    with open(shared / "lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


@pytest.fixture(scope="session")
def env(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """For every process these tests start: CPU, and one JAX compile cache, so that only the
    first process compiles the world (seconds instead of tens of seconds on two cores)."""
    return {
        **os.environ,
        "JAX_COMPILATION_CACHE_DIR": str(shared / "jax-cache"),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
        "JAX_PLATFORMS": "cpu",
        "UPRISING_REGISTRY": str(tmp_path_factory.mktemp("registry") / "registry.duckdb"),
    }


@pytest.fixture(scope="session")
def sweep_file(shared: Path) -> Path:
    path = shared / "sweep.toml"
    with alone(shared):
        if not path.exists():
            path.write_text(SWEEP)
    return path


def uprising(*args: str, env: dict[str, str], timeout: float = 300) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "uprising.cli", *args, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.fixture(scope="session")
def direct(env: dict[str, str], sweep_file: Path, shared: Path) -> dict[str, dict]:
    """Metrics of `uprising.run` and series of `simulate` at every point and seed, in one fresh
    process (which also fills the compile cache before any sweep starts its workers)."""
    script = """
import json, sys
from pathlib import Path
from uprising.run.api import run
from uprising.run.simulate import simulate
from uprising.scenarios.load import load_scenario
from uprising.scenarios.sweep import plan
checked = plan(Path(sys.argv[1]))
out = {}
for (p, s) in checked.tasks():
    params = checked.overrides(p)
    ds = simulate(load_scenario("epstein-run1", params), s)
    out[f"{p},{s}"] = {
        "params": params,
        "metrics": run(params, s, scenario="epstein-run1"),
        "series": {v: ds[v].values.tolist() for v in ds.data_vars if v != "grid"},
    }
Path(sys.argv[2]).write_text(json.dumps(out))
"""
    path = shared / "direct.json"
    with alone(shared):
        if not path.exists():
            proc = subprocess.run(
                [sys.executable, "-c", script, str(sweep_file), str(path)],
                capture_output=True,
                text=True,
                env=env,
                timeout=300,
            )
            assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(path.read_text())


@pytest.fixture(scope="session")
def reference(env: dict[str, str], sweep_file: Path, direct: dict, shared: Path) -> pd.DataFrame:
    """The table of an uninterrupted local sweep (one worker: the resumed sweep has two)."""
    out = shared / "reference"
    with alone(shared):
        if not (out / RESULTS).exists():
            summary = uprising(
                "sweep", str(sweep_file), "--out", str(out), "--workers", "1", env=env
            )
            assert (summary["tasks"], summary["done"], summary["skipped"]) == (TASKS, TASKS, 0)
            assert summary["results"] == str(out / RESULTS)
    return pd.read_parquet(out / RESULTS)


# --- the file and its errors -------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("scenario = [", "not valid TOML"),
        ('scenario = "epstein-run1"\nseeds = -2', "seeds: Input should be greater than or equal"),
        ('scenario = "epstein-run1"\nrepeats = 3', "repeats: unknown key; allowed: scenario,"),
        ('scenario = "epstein-run1"\n[parameters]\nk = []', "parameters.k: an empty list"),
        ('scenario = "epstein-run1"\n[parameters]\nk = [[1, 2]]', "parameters.k.0: values must"),
        (
            'scenario = "epstein-run1"\n[parameters]\nk = { start = 1, stop = 3 }',
            "parameters.k.step: Field required",
        ),
        (
            'scenario = "epstein-run1"\n[parameters]\nk = { start = 1, stop = 3, step = 1, x = 2 }',
            "parameters.k.x: unknown key; allowed: start, stop, step",
        ),
        (
            'scenario = "epstein-run1"\n[parameters]\nk = { start = 3, stop = 1, step = 1 }',
            "parameters.k: stop 1 is below start 3",
        ),
        (
            'scenario = "epstein-run1"\n[parameters]\nk = { distribution = "beta", samples = 3 }',
            "parameters.k: must be a list of values, a range {start, stop, step} or a"
            " distribution {distribution, ..., samples} with distribution one of uniform,"
            " loguniform, normal, integers",
        ),
        (
            'scenario = "epstein-run1"\n[parameters]\n'
            'k = { distribution = "normal", mean = 2, samples = 3 }',
            "parameters.k.sd: Field required",
        ),
        (
            'scenario = "epstein-run1"\n[parameters]\n'
            'k = { distribution = "uniform", low = 1, high = 3, samples = 3 }\n'
            'threshold = { distribution = "uniform", low = 0, high = 1, samples = 4 }',
            "samples must agree; got k: 3, threshold: 4",
        ),
        ('scenario = "epstein-run1"\nmetrics = []', "nothing to record"),
        ('scenario = "epstein-run1"\n[parameters]\nseed = [1, 2]', "'seed' is a column"),
        ('scenario = "nowhere"', "scenario: unknown scenario 'nowhere'; built in: epstein-run1,"),
        ('scenario = "missing.toml"', "scenario: no scenario file at"),
        ('scenario = "epstein-run1"\nvariant = "csto"', "has no variants"),
        (
            'scenario = "epstein-run1"\nmetrics = ["deaths"]',
            "metrics: 'deaths' is not recorded by epstein-run1; allowed:"
            " peak_active, mean_active, final_active, final_jailed, outbursts, mean_wait",
        ),
        (
            'scenario = "epstein-run1"\nseries = ["held"]',
            "series: 'held' is not recorded by epstein-run1; allowed: quiet,",
        ),
        (
            'scenario = "epstein-run1"\n[parameters]\nvision = [1, 2]',
            "parameters, at point 0 (vision = 1): unknown key 'vision'; allowed: ",
        ),
        (
            'scenario = "epstein-run1"\n[parameters]\nlegitimacy = [0.5, 1.5]',
            "parameters, at point 1 (legitimacy = 1.5): ",
        ),
        ('scenario = "epstein-run1"\nsteps = 10\nseries = ["active"]\nevery = 20', "every: 20"),
        ('scenario = "kazakhstan-2022"\nsteps = 10', "vary `end` instead"),
        (
            'scenario = "kazakhstan-2022"\nseries = ["deaths"]',
            "series: 'deaths' is also a metric",
        ),
    ],
)
def test_bad_sweep_is_an_error_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SweepError) as caught:
        plan(write(tmp_path, text))
    assert message in str(caught.value)


def test_cli_reports_bad_sweep_on_stderr_before_any_work(tmp_path: Path) -> None:
    bad = write(tmp_path, 'scenario = "epstein-run1"\n[parameters]\nk = []')
    result = CliRunner().invoke(app, ["sweep", str(bad), "--out", str(tmp_path / "o"), "--json"])
    assert result.exit_code == 2
    assert "parameters.k: an empty list" in result.output
    assert result.stdout.strip() == "" and not (tmp_path / "o").exists()
    good = write(tmp_path, SWEEP)
    both = ["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"]
    result = CliRunner().invoke(app, ["sweep", str(good), "--out", str(tmp_path / "o"), *both])
    assert result.exit_code == 2 and "--workers sizes a local cluster" in result.output


def test_a_folder_holds_one_sweep(tmp_path: Path) -> None:
    first = write(tmp_path, SWEEP)
    out = tmp_path / "out"
    out.mkdir()
    (out / "sweep.toml").write_text(SWEEP.replace("seeds = 3", "seeds = 4"))
    with pytest.raises(SweepError, match="holds another sweep: its sweep.toml differs"):
        sweep(plan(first), out)


# --- expansion -----------------------------------------------------------------------------------


def test_lists_ranges_and_distributions_expand_to_a_deterministic_grid() -> None:
    text = """
    scenario = "epstein-run1"
    sample_seed = 7
    [parameters]
    legitimacy = [0.7, 0.8]
    k = { start = 0.1, stop = 0.3, step = 0.1 }
    max_jail = { start = 10, stop = 30, step = 10 }
    threshold = { distribution = "uniform", low = 0.05, high = 0.2, samples = 4 }
    cop_vision = { distribution = "loguniform", low = 1, high = 10, samples = 4 }
    height = { distribution = "integers", low = 10, high = 12, samples = 4 }
    citizen_vision = { distribution = "normal", mean = 2, sd = 0.1, samples = 4 }
    rules = "paper"
    """
    points = read_sweep(text, "t").points()
    assert len(points) == 2 * 3 * 3 * 4
    assert list(points[0]) == [
        *("legitimacy", "k", "max_jail", "threshold", "cop_vision", "height"),
        *("citizen_vision", "rules"),
    ]
    assert sorted({p["k"] for p in points}) == [0.1, 0.2, 0.3]  # float-safe, stop included
    assert sorted({p["max_jail"] for p in points}) == [10, 20, 30]
    assert all(type(p["max_jail"]) is int and type(p["height"]) is int for p in points)
    draws = [p["threshold"] for p in points[:4]]
    assert len(set(draws)) == 4 and all(0.05 <= d < 0.2 for d in draws)
    assert [p["threshold"] for p in points[4:8]] == draws  # the same draws at every grid point
    assert all(10 <= p["height"] <= 12 and 1 <= p["cop_vision"] < 10 for p in points)
    assert points == read_sweep(text, "t").points()  # deterministic
    other = read_sweep(text.replace("sample_seed = 7", "sample_seed = 8"), "t").points()
    assert [p["threshold"] for p in other[:4]] != draws
    # A parameter's draws depend on its name and sample_seed, not on the others.
    fewer = read_sweep(text.replace('rules = "paper"', "").replace("cop_vision", "#"), "t")
    assert [p["threshold"] for p in fewer.points()[:4]] == draws
    # TOML's dotted keys nest tables; quoted or not, a dotted key is one parameter.
    nested = read_sweep('scenario = "x"\n[parameters]\nepstein.k = [1, 2]\n"a.b" = 3', "t")
    assert nested.points() == [{"epstein.k": 1, "a.b": 3}, {"epstein.k": 2, "a.b": 3}]


def test_series_names_are_what_runs_record() -> None:
    from uprising.engine import init
    from uprising.engine.step import observe
    from uprising.scenarios.compile import compile_country
    from uprising.scenarios.load import load_scenario, to_engine
    from uprising.world import country
    from uprising.world.layout import init as init_cities

    world, _ = to_engine(load_scenario("epstein-run1", {"height": 8, "width": 8}))
    found = jax.eval_shape(lambda key: observe(init(world, key)), jax.random.key(0))
    assert sorted(found) == sorted(SERIES["epstein"])
    spec = load_scenario("kazakhstan-2022", {"people_per_agent": 400})
    built = compile_country(spec)
    state = country.start(init_cities(built.layout, built.police, jax.random.key(0)), built.country)
    seen = jax.eval_shape(
        lambda s, k: country.step(s, built.country, k, built.world)[1], state, jax.random.key(0)
    )
    assert sorted(seen) == sorted(SERIES["country"])


# --- runs ----------------------------------------------------------------------------------------


def test_local_sweep_equals_single_runs(reference: pd.DataFrame, direct: dict) -> None:
    assert list(reference.columns) == [
        *("point", "seed", "height", "width", "legitimacy", "threshold"),
        *("metric", "step", "value"),
    ]
    assert len(reference) == TASKS * (4 + 2 * 4)  # 4 metrics and 2 series at 4 steps per run
    for key, run in direct.items():
        point, seed = map(int, key.split(","))
        rows = reference[(reference["point"] == point) & (reference["seed"] == seed)]
        assert rows[["height", "width", "legitimacy", "threshold"]].iloc[0].to_dict() == {
            k: run["params"][k] for k in ("height", "width", "legitimacy", "threshold")
        }
        ends = rows[rows["step"] == 200].set_index("metric")["value"]
        for name in ("peak_active", "mean_active", "final_jailed", "mean_wait"):
            assert ends[name] == pytest.approx(run["metrics"][name], rel=0, abs=0, nan_ok=True)
        for name in ("active", "jailed"):
            series = rows[rows["metric"] == name]
            assert series["step"].tolist() == [50, 100, 150, 200]
            assert series["value"].tolist() == [run["series"][name][s - 1] for s in series["step"]]


def test_killed_sweep_resumes_to_the_same_table(
    env: dict[str, str], sweep_file: Path, reference: pd.DataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    env = env | {"UPRISING_REGISTRY": str(tmp_path / "registry.duckdb")}
    args = [sys.executable, "-m", "uprising.cli", "sweep", str(sweep_file), "--out", str(out)]
    proc = subprocess.Popen(
        [*args, "--workers", "1", "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the kill takes its workers too
    )
    try:
        deadline = time.monotonic() + 240
        while proc.poll() is None and time.monotonic() < deadline:
            if 0 < len(list((out / "parts").glob("point*.parquet"))) < TASKS:
                os.killpg(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.005)
        assert proc.wait(timeout=30) == -signal.SIGKILL, "the sweep ended before it was killed"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    kept = {p: p.stat().st_mtime_ns for p in (out / "parts").glob("point*.parquet")}
    assert 0 < len(kept) < TASKS and not (out / RESULTS).exists()
    # The worst a kill can leave of the registry, whatever this one left: a file with no table.
    for left in tmp_path.glob("registry.duckdb*"):
        left.unlink()
    duckdb.connect(env["UPRISING_REGISTRY"]).close()

    again = uprising("sweep", str(sweep_file), "--out", str(out), "--workers", "2", env=env)
    assert (again["skipped"], again["done"]) == (len(kept), TASKS - len(kept))
    assert all(p.stat().st_mtime_ns == t for p, t in kept.items())  # finished runs not rerun
    assert not list(out.rglob("*.tmp"))
    pd.testing.assert_frame_equal(pd.read_parquet(out / RESULTS), reference)
    meta = read_metadata(out / RESULTS)
    assert meta["scenario"] == "epstein-run1" and len(str(meta["sweep_hash"])) == 16
    with duckdb.connect(env["UPRISING_REGISTRY"], read_only=True) as con:
        paths = [r[0] for r in con.execute("SELECT result_path FROM runs").fetchall()]
    assert sorted(paths) == sorted(str(p) for p in (out / "parts").glob("*.parquet"))

    third = sweep(plan(sweep_file), out, registry_path=Path(env["UPRISING_REGISTRY"]))
    assert (third.skipped, third.done) == (TASKS, 0)  # nothing left: no cluster, no runs
    pd.testing.assert_frame_equal(pd.read_parquet(out / RESULTS), reference)


def test_a_sweep_refuses_parts_run_by_other_code(
    reference: pd.DataFrame, shared: Path, tmp_path: Path, sweep_file: Path, monkeypatch
) -> None:
    out = tmp_path / "out"
    shutil.copytree(shared / "reference", out)
    code = importlib.import_module("uprising.run.sweep")  # `uprising.run` is a function
    monkeypatch.setattr(code, "package_version", lambda: "0.2.0+00000000")
    with pytest.raises(SweepError, match=r"was run by uprising .* this is 0.2.0\+00000000"):
        sweep(plan(sweep_file), out)


def test_dask_cluster_on_loopback_gives_the_local_table(
    env: dict[str, str], sweep_file: Path, reference: pd.DataFrame, tmp_path: Path
) -> None:
    from distributed import Client

    address_file = tmp_path / "scheduler.json"
    scheduler = ["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0"]
    worker = ["distributed.cli.dask_worker", "--scheduler-file", str(address_file)]
    commands = [
        [*scheduler, "--scheduler-file", str(address_file), "--no-dashboard"],
        *(
            [*worker, "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"]
            + ["--local-directory", str(tmp_path / f"worker{i}")]
            for i in range(2)
        ),
    ]
    procs: list[subprocess.Popen] = []
    try:
        for command in commands:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", *command],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        address, deadline = "", time.monotonic() + 60
        while not address and time.monotonic() < deadline:
            try:
                address = json.loads(address_file.read_text())["address"]
            except (OSError, ValueError, KeyError):  # not written yet, or half written
                time.sleep(0.1)
        assert address.startswith("tcp://127.0.0.1:")
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        out = tmp_path / "out"
        summary = uprising(
            "sweep", str(sweep_file), "--out", str(out), "--scheduler", address, env=env
        )
        assert (summary["done"], summary["skipped"]) == (TASKS, 0)
        pd.testing.assert_frame_equal(pd.read_parquet(out / RESULTS), reference)
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
