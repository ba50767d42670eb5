"""The engine: Epstein's civil violence model as pure functions over arrays (JAX).

world = World(rules="netlogo")            # static: shapes and code paths
params = Params.make(legitimacy=0.82)     # dynamic: can be vmapped
state = init(world, key)
state = step(state, params, key, world)   # pure; or run(...) for many steps
"""

from uprising.engine.params import Params, Schedule
from uprising.engine.rules import RULES, Rules
from uprising.engine.state import ACTIVE, COP, EMPTY, JAILED, QUIET, State, init, init_batch
from uprising.engine.step import observe, run, run_batch, step
from uprising.engine.world import World, WorldError

__all__ = [
    "ACTIVE",
    "COP",
    "EMPTY",
    "JAILED",
    "QUIET",
    "RULES",
    "Params",
    "Rules",
    "Schedule",
    "State",
    "World",
    "WorldError",
    "init",
    "init_batch",
    "observe",
    "run",
    "run_batch",
    "step",
]
