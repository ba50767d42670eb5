"""`uprising scenarios`: what is built in, to pick a name for the other commands."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from uprising.scenarios.country import CountryScenario
from uprising.scenarios.load import builtin_names, load_scenario


def scenarios() -> None:
    """List the built-in scenarios."""
    table = Table("name", "rules", "size", "length", "variants", "description")
    for name in builtin_names():
        s = load_scenario(name)
        if isinstance(s, CountryScenario):
            hours = int((s.end - s.start).total_seconds() // 3600)
            size, length = f"{len(s.cities)} cities", f"{hours} hours"
            variants = ", ".join(s.variants)
        else:
            size, length, variants = f"{s.world.height}x{s.world.width}", f"{s.steps} steps", ""
        table.add_row(name, s.rules, size, length, variants, s.description)
    Console().print(table)
