"""`uprising report`: one self-contained HTML file with observed beside simulated; bad input is
refused before any work. One small report (1:20000, 10 days, 2 runs of the scenario and of a
variant that compiles to the same shapes) serves every check."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from uprising.analysis.compare import TARGETS
from uprising.cli import app
from uprising.run.simulate import package_version
from uprising.scenarios.load import load_scenario

runner = CliRunner()
SETS = ["--set", "people_per_agent=400", "--set", "end=2022-01-11T00:00:00"]
VARIANT = "no-blackout"  # same event shapes as the base: one compile serves both
FIGURES = 8  # outcomes, side by side, and per scenario: timelines, map by day, city grid


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    out = tmp_path_factory.mktemp("report") / "kz.html"
    args = ["report", "kazakhstan-2022", "--variant", VARIANT, "--runs", "2", *SETS]
    result = runner.invoke(app, [*args, "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # the whole of stdout is one JSON object
    assert summary["file"] == str(out) and out.is_file()
    return summary, out.read_text(encoding="utf-8")


def test_report_is_one_self_contained_file(made: tuple[dict[str, Any], str]) -> None:
    summary, page = made
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    # Nothing is loaded from elsewhere: no remote src/href, no style sheets or scripts by link.
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:|//)""", page, re.I)
    assert "<link" not in page and "<script" not in page and "@import" not in page
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == page.count("data:image/png;base64,") == summary["figures"]
    assert len(images) >= FIGURES
    for data in images:
        png = base64.b64decode(data, validate=True)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_report_shows_observed_beside_simulated(made: tuple[dict[str, Any], str]) -> None:
    _, page = made
    base = load_scenario("kazakhstan-2022", {"people_per_agent": 400, "end": "2022-01-11"})
    variant = base.variant(VARIANT)
    for city in base.cities:  # every city, in the scenario's table and the per-city comparison
        assert page.count(f"<td>{city.name}</td>") >= 2, city.name
    for event in base.events:  # the calendar
        assert f"<code>{event.id}</code>" in page
    # National sizes: the observed number in the cell beside the simulated median.
    for label, observed in [
        ("peak participants (national)", "50,000"),
        ("deaths", "238"),
        ("detentions (a person arrested twice counts twice)", "12,000"),
    ]:
        row = rf'<tr><td>{re.escape(label)}</td><td class="obs n">{observed}</td>'
        row += r'<td class="n">[\d,]+ \[[\d,]+, [\d,]+\]</td>'
        assert re.search(row, page), label
    # Said at the top, not hidden: sizes only roughly calibrated, and this scale not the fit's.
    top = page[: page.index("<h2")]
    assert "only roughly on its sizes" in top
    assert "calibrated at people_per_agent = 40; at 400" in top
    for target in TARGETS:
        assert f"<code>{target}</code>" in page
    assert re.search(r'<td class="n">\d\.\d\d \[\d\.\d\d, \d\.\d\d\]</td>', page)  # 95% CI
    assert "score" in page and "observed first protest" in page and "seized 5 Jan" in page
    # Provenance: both hashes, the variant, the version, the seeds.
    assert base.digest() in page and variant.digest() in page
    assert f"<h3>{VARIANT}</h3>" in page and f"uprising {package_version()}" in page
    assert "seeds 0..1" in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["atlantis"], "unknown scenario 'atlantis'; built in:"),
        (["kazakhstan-2022", "--variant", "no-such"], "--variant: 'no-such'"),
        (["kazakhstan-2022", "--variants", "no-csto,nope"], "allowed: gradual-price"),
        (["kazakhstan-2022", "--runs", "0"], "--runs"),
        (["epstein-run2"], "needs a country scenario"),
        (["kazakhstan-2022", "--city", "Atlantis"], "allowed: Almaty, Nur-Sultan"),
        (["kazakhstan-2022", "--out", "report.pdf"], "allowed: .html, .htm"),
        (["kazakhstan-2022", "--set", "people_per_agent=0"], "people_per_agent"),
    ],
)
def test_report_refuses_bad_input_before_any_work(
    args: list[str], message: str, tmp_path: Path
) -> None:
    out = ["--out", str(tmp_path / "r.html")] if "--out" not in args else []
    result = runner.invoke(app, ["report", *args, *out, "--json"])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split()), result.output
    assert result.stdout.strip() == ""
    assert not list(tmp_path.iterdir())
