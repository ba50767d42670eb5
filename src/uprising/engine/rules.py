"""The three published readings of Epstein's Model I, as named rule sets.

Each field is one point on which the paper, NetLogo's Rebellion and Mesa's example disagree
(see docs/model.md, "Rule sets"). The engine reads these flags; it has no other branches per
implementation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Rounding = Literal["none", "floor", "round"]


@dataclass(frozen=True)
class Rules:
    name: str
    rounding: Rounding
    """How C/A enters P = 1 - exp(-k f(C/A)): as is (paper), floor (NetLogo), or rounded half
    to even (Mesa)."""
    counts_self_twice: bool
    """NetLogo counts the patches in-radius including its own, so an active citizen adds itself
    to 1 + actives."""
    vision_shape: Literal["disk", "diamond"]
    """Circular radius (paper, NetLogo) or von Neumann radius (Mesa)."""
    jail_on_grid: bool
    """Mesa's jailed citizens keep blocking their cell; elsewhere they leave the grid."""
    cop_takes_cell: bool
    """NetLogo's cop moves onto the patch of the citizen it arrested."""
    move_first: bool
    """NetLogo and the paper: move, then act. Mesa: act, then move."""
    jail_inclusive: bool
    """Jail term uniform on 0..Jmax (paper, Mesa's randint) or on 0..Jmax-1 (NetLogo)."""
    countdown_own_turn: bool
    """Mesa counts a jail term down in the prisoner's own turn, the others at each step's end."""
    per_cell_placement: bool
    """Mesa draws each cell's occupant independently; the others place exact counts."""
    grievance_fixed: bool
    """Mesa computes grievance once at creation, so later changes of legitimacy do nothing."""
    cops_always_move: bool
    """NetLogo moves cops even when citizen movement is switched off."""


PAPER = Rules(
    name="paper",
    rounding="none",
    counts_self_twice=False,
    vision_shape="disk",
    jail_on_grid=False,
    cop_takes_cell=False,
    move_first=True,
    jail_inclusive=True,
    countdown_own_turn=False,
    per_cell_placement=False,
    grievance_fixed=False,
    cops_always_move=True,
)
NETLOGO = Rules(
    name="netlogo",
    rounding="floor",
    counts_self_twice=True,
    vision_shape="disk",
    jail_on_grid=False,
    cop_takes_cell=True,
    move_first=True,
    jail_inclusive=False,
    countdown_own_turn=False,
    per_cell_placement=False,
    grievance_fixed=False,
    cops_always_move=True,
)
MESA = Rules(
    name="mesa",
    rounding="round",
    counts_self_twice=False,
    vision_shape="diamond",
    jail_on_grid=True,
    cop_takes_cell=False,
    move_first=False,
    jail_inclusive=True,
    countdown_own_turn=True,
    per_cell_placement=True,
    grievance_fixed=True,
    cops_always_move=False,
)

RULES: dict[str, Rules] = {r.name: r for r in (PAPER, NETLOGO, MESA)}
