"""Options that several commands take, written once so that their flags and help agree."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ScenarioArgument = Annotated[str, typer.Argument(help="built-in name or path to a TOML file")]
CountryArgument = Annotated[str, typer.Argument(help="a country scenario: name or TOML path")]
VariantOption = Annotated[str | None, typer.Option(help="a variant of a country scenario")]
ScenarioVariantOption = Annotated[str | None, typer.Option(help="a variant of the scenario")]
CityOption = Annotated[
    str | None, typer.Option(help="the city whose grid is shown (default: most populous)")
]
SetOption = Annotated[
    list[str], typer.Option("--set", help="override a parameter: KEY=VALUE (dotted keys reach in)")
]
JsonOption = Annotated[bool, typer.Option("--json", help="print one JSON object on stdout")]
RegistryOption = Annotated[
    Path | None,
    typer.Option(help="run registry file (default $UPRISING_REGISTRY or uprising-runs/)"),
]
WorkersOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="runs side by side, one per core (default: every core, as memory allows,"
        " at least 4 runs each; 1 on a GPU)",
    ),
]
