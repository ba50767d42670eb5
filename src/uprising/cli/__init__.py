"""The command line: `uprising scenarios`, `uprising run SCENARIO ...`, `uprising compare ...`."""

# The docstring above is `uprising --help`; each module below holds a command or a few alike.

from __future__ import annotations

import typer

from uprising.cli import analysis, compare, ensemble, run, runs, scenarios, sweep, viz

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
# In the order `uprising --help` lists them.
app.command()(scenarios.scenarios)
app.command("run")(run.run_command)
app.command("compare")(compare.compare_command)
app.command("ensemble")(ensemble.ensemble_command)
app.command("runs")(runs.runs_command)
app.command("sweep")(sweep.sweep_command)
app.command("sensitivity")(analysis.sensitivity_command)
app.command("calibrate")(analysis.calibrate_command)
app.command("dashboard")(viz.dashboard_command)
app.command("report")(viz.report_command)
app.command("animate")(viz.animate_command)
