"""The static shape of a simulation: grid, densities, visions, rule set, update scheme.

Everything here fixes array shapes or code paths, so it is hashable and passed to the compiled
step as a static argument. What may vary between runs of one compiled model lives in `Params`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from uprising.engine import neighbourhood
from uprising.engine.rules import RULES, Rules

MAX_AGENTS = 1 << 25
"""The pseudo-random partition multiplies agent slots by primes below 128 in 32-bit integers."""

MAX_SIDE = 60_000
"""Packed counts keep row prefix sums of cops in 16 bits."""


class WorldError(ValueError):
    """A world that cannot be built, with the key at fault and what is allowed."""


@dataclass(frozen=True)
class World:
    height: int = 40
    width: int = 40
    citizen_density: float = 0.7
    cop_density: float = 0.04
    citizen_vision: float = 7.0
    cop_vision: float = 7.0
    movement: bool = True
    rules: str = "netlogo"
    substeps: int = 32
    """Partial update: each step, agents act in this many random groups one after another."""
    salience: float = 1.0
    """Share of cells whose agents citizens and cops count (1: all). Below 1 an agent counts a
    sample of what it sees, the same sample as its neighbours: a country finer than the scale it
    was fitted at keeps the fitted perception (II.7.18)."""
    salience_steps: int = 1
    """Steps one draw of salient cells lasts."""
    batch_axes: tuple[str, ...] = ()
    """Names of the `vmap` axes this world is stepped under (`batched`), so that a choice of
    how to compute can be made once for the whole batch (`any_world`)."""
    _checked: bool = field(default=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        if self.rules not in RULES:
            raise WorldError(f"rules={self.rules!r} is unknown; allowed: {', '.join(RULES)}")
        for key in ("height", "width"):
            value = getattr(self, key)
            if not isinstance(value, int | np.integer) or not 1 <= value <= MAX_SIDE:
                raise WorldError(f"{key}={value!r} must be a whole number in 1..{MAX_SIDE}")
        for key in ("citizen_density", "cop_density"):
            value = getattr(self, key)
            if not 0.0 <= value <= 1.0:
                raise WorldError(f"{key}={value!r} must lie in [0, 1]")
        if self.citizen_density + self.cop_density > 1.0:
            raise WorldError(
                f"citizen_density + cop_density = {self.citizen_density + self.cop_density:g}"
                " must not exceed 1"
            )
        for key in ("citizen_vision", "cop_vision"):
            value = getattr(self, key)
            if not value >= 1.0:
                raise WorldError(f"{key}={value!r} must be at least 1 (cells)")
            if self.ruleset.vision_shape == "diamond" and float(value) != int(value):
                raise WorldError(
                    f"{key}={value!r}: rules 'mesa' use a von Neumann radius, a whole number"
                )
            if 2 * neighbourhood.radius(value) + 1 > min(self.height, self.width):
                raise WorldError(
                    f"{key}={value!r} sees round the torus on a {self.height}x{self.width} grid;"
                    f" allowed: at most {(min(self.height, self.width) - 1) // 2}"
                )
        if not 0.0 < self.salience <= 1.0:
            raise WorldError(f"salience={self.salience!r} must lie in (0, 1]")
        if not isinstance(self.salience_steps, int | np.integer) or self.salience_steps < 1:
            raise WorldError(f"salience_steps={self.salience_steps!r} must be a whole number >= 1")
        if not isinstance(self.substeps, int | np.integer) or not 1 <= self.substeps <= 1024:
            raise WorldError(f"substeps={self.substeps!r} must be a whole number in 1..1024")
        if self.substeps * self.capacity() >= 2**32:
            raise WorldError(
                f"substeps={self.substeps} with {self.capacity():,} agents overflows the 32-bit"
                f" group arithmetic; allowed: at most {(2**32 - 1) // max(self.capacity(), 1)}"
            )
        if self.capacity() > MAX_AGENTS:
            raise WorldError(
                f"{self.height}x{self.width} at these densities holds up to {self.capacity():,}"
                f" agents; allowed: at most {MAX_AGENTS:,} per world"
            )

    def batched(self, axis: str) -> World:
        """This world stepped under `jax.vmap(..., axis_name=axis)`."""
        return replace(self, batch_axes=(*self.batch_axes, axis))

    def any_world(self, pred: Array) -> Array:
        """Whether `pred` holds in any world of the batch (in this one, unbatched).

        A predicate that differs between the worlds of a batch turns `lax.cond` into a select
        that computes both branches everywhere; one decided for the whole batch stays a branch.
        Use it where either branch gives the same result and only the cost differs.
        """
        if not self.batch_axes:
            return pred
        return jax.lax.psum(pred.astype(jnp.int32), self.batch_axes) > 0

    @property
    def ruleset(self) -> Rules:
        return RULES[self.rules]

    @property
    def cells(self) -> int:
        return self.height * self.width

    def exact_counts(self) -> tuple[int, int]:
        """Citizens and cops placed by the exact-count rule (NetLogo's `round`)."""
        return round(self.citizen_density * self.cells), round(self.cop_density * self.cells)

    def capacity(self) -> int:
        citizens, cops = self.exact_counts()
        return citizens + cops

    def vision_shape(self, who: str, centre: bool) -> tuple[np.ndarray, np.ndarray]:
        vision = self.citizen_vision if who == "citizen" else self.cop_vision
        return neighbourhood.offsets(vision, self.ruleset.vision_shape, centre)

    def citizen_widths(self) -> tuple[int, ...]:
        return neighbourhood.half_widths(self.citizen_vision, self.ruleset.vision_shape)
