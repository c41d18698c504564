"""countysim's model: one county under one policy mix, as a function of (scenario, seed).

Public API::

    import sim
    scenario = sim.load_scenario("configs/scenarios/baseline.yaml", ["policy.store_upgrade_subsidy=0.5"])
    result = sim.CountyModel(scenario, seed=1).run()
    result.timeseries  # one row per week, a column per indicator
    result.summary     # final-year values
    result.evaluation  # tier reviews and leading-county status
    result.budget      # where every yuan of the programmes went

This package never imports ``experiments`` (sweeps, outputs, plots).
"""

from sim.config import Scenario, declare_indicators, load_scenario
from sim.errors import InputError, MapError
from sim.model import CountyModel, RunResult
from sim.policy.indicators import BASE_NAMES, BY_NAME, INDICATORS

# The schema imports no runtime code, yet a criteria file must name known indicators: the
# catalogue's names are handed down here, before any scenario can be loaded.
declare_indicators(measured=BASE_NAMES, every=BY_NAME)

__all__ = ["INDICATORS", "CountyModel", "InputError", "MapError", "RunResult", "Scenario", "load_scenario"]
