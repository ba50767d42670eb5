"""`uprising animate`: a GIF (or an MP4 where ffmpeg is) with one frame per `--every` hours,
readable by Pillow; a bad suffix or city is refused before any work. Same scale and calendar as
tests/test_report.py, so in one test session the compiled step is shared."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from uprising.cli import app
from uprising.viz.animate import frame_hours

runner = CliRunner()
SETS = ["--set", "people_per_agent=400", "--set", "end=2022-01-11T00:00:00"]
HOURS = 240


def test_frames_end_every_interval_and_the_calendar() -> None:
    assert frame_hours(24, 6) == [5, 11, 17, 23]
    assert frame_hours(10, 4) == [3, 7, 9]
    assert frame_hours(5, 10) == [4]


def test_animate_writes_a_gif_with_one_frame_per_interval(tmp_path: Path) -> None:
    out = tmp_path / "kz.gif"
    args = ["animate", "kazakhstan-2022", "--city", "Almaty", "--every", "24", "--fps", "4"]
    result = runner.invoke(app, [*args, "--dpi", "50", *SETS, "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["frames"] == HOURS // 24 and summary["city"] == "Almaty"
    with Image.open(out) as gif:
        assert gif.format == "GIF"
        assert gif.n_frames == HOURS // 24
        assert gif.size == (500, 280)  # 10 x 5.6 inches at 50 dpi
        assert gif.info["duration"] == 250
    assert not list(tmp_path.glob(".*partial*"))  # written atomically, nothing left over


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not on PATH: no MP4 here")
def test_animate_writes_an_mp4_where_ffmpeg_is(tmp_path: Path) -> None:
    out = tmp_path / "kz.mp4"
    args = ["animate", "kazakhstan-2022", "--every", "24", "--dpi", "50", *SETS]
    result = runner.invoke(app, [*args, "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[4:8] == b"ftyp"  # an MP4 container
    command = ["ffmpeg", "-hide_banner", "-i", str(out), "-map", "0:v:0", "-c", "copy"]
    copied = subprocess.run(  # ffmpeg counts the frames it copies: "frame=   10"
        [*command, "-f", "null", "-"], capture_output=True, text=True, check=True
    )
    assert re.findall(r"frame=\s*(\d+)", copied.stderr)[-1] == str(HOURS // 24)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["kazakhstan-2022", "--out", "run.avi"], "allowed: .gif, .mp4"),
        (["kazakhstan-2022", "--out", "run"], "allowed: .gif, .mp4"),
        (["kazakhstan-2022", "--city", "Atlantis"], "--city: 'Atlantis'"),
        (["kazakhstan-2022", "--variant", "no-such"], "allowed: gradual-price"),
        (["kazakhstan-2022", "--every", "0"], "--every"),
        (["epstein-run1"], "needs a country scenario"),
    ],
)
def test_animate_refuses_bad_input_before_any_work(
    args: list[str], message: str, tmp_path: Path
) -> None:
    out = [] if "--out" in args else ["--out", str(tmp_path / "run.gif")]
    result = runner.invoke(app, ["animate", *args, *out, "--json"])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split()), result.output
    assert result.stdout.strip() == "" and not list(tmp_path.iterdir())


@pytest.mark.skipif(shutil.which("ffmpeg") is not None, reason="ffmpeg is on PATH here")
def test_animate_names_the_allowed_suffix_when_ffmpeg_is_missing(tmp_path: Path) -> None:
    result = runner.invoke(app, ["animate", "kazakhstan-2022", "--out", str(tmp_path / "a.mp4")])
    assert result.exit_code == 2
    assert "needs ffmpeg on PATH" in result.output and "allowed here: .gif" in result.output
