"""uprising: popular uprisings under authoritarian rule, on Epstein's civil violence model.

    import uprising
    uprising.run({"epstein.k": 2.0}, seed=1)          # metrics of one kazakhstan-2022 run
    uprising.load_scenario("kazakhstan-2022", variant="no-csto")

`uprising.run` is the function; the subpackage of the same name is reached by full imports
(`from uprising.run.sweep import ...`).
"""

from uprising.run.api import run, run_seeds
from uprising.run.country import simulate_country
from uprising.run.simulate import simulate
from uprising.scenarios.load import load_scenario

__all__ = ["load_scenario", "run", "run_seeds", "simulate", "simulate_country"]
