"""salesim: a discrete-event, Monte Carlo simulator of a SaaS sales organization.

The public API, for notebooks and scripts (nothing runs on import)::

    import sim
    scenario = sim.load_scenario("scenarios/silo.yaml", overrides=["roles.ae.headcount=8"])
    result = sim.run(scenario, reps=200, seed=1, workers=2)
    result.summary()            # KPI table with 95% confidence intervals
    result.kpis                 # one row per replication
    result.timeseries           # rep × month × series (long format)
    sim.compare({"silo": "scenarios/silo.yaml", "pod": "scenarios/pod.yaml"}, reps=200)
    sim.plan(sim.PlanTarget(annual_new_revenue_usd=2_000_000), sim.SalesModel.from_scenario(scenario))
    sim.sweep(["scenarios/silo.yaml", "scenarios/pod.yaml"], ["pod:org.pod_handoff.leakage_probability=0:0.2:0.02"])
    sim.sensitivity("scenarios/silo.yaml", inputs, methods=["tornado", "morris", "sobol"])

The package reads top-down as the data flows: :mod:`sim.scenario` (YAML → validated scenario)
→ :mod:`sim.model` (the SimPy world) → :mod:`sim.eventlog` (its records) → :mod:`sim.metrics`
(KPIs) → :mod:`sim.runs` (Monte Carlo, comparisons, results folders) → :mod:`sim.planner` (the
analytic planner) → :mod:`sim.present` (tables, figures) → :mod:`sim.cli` (``salesim``).
"""

from sim.scenario import Scenario, ScenarioError, load_scenario, scenario_from_dict

__all__ = [
    "Comparison", "PlanError", "PlanTarget", "RunResult", "SalesModel", "Scenario", "ScenarioError",
    "SensitivityResult", "SweepResult", "compare", "gap_breakdown", "lag_aware", "load_scenario", "plan",
    "plots", "run", "run_to_precision", "scenario_from_dict", "sensitivity", "simulate_one", "simulate_plan",
    "solve_plan", "stats", "sweep",
]

_LAZY = {
    "run": "sim.runs.monte_carlo", "run_to_precision": "sim.runs.monte_carlo", "RunResult": "sim.runs.results",
    "simulate_one": "sim.runs.replication", "compare": "sim.runs.comparison", "Comparison": "sim.runs.comparison",
    "plan": "sim.planner.headcount", "PlanTarget": "sim.planner.headcount", "SalesModel": "sim.planner.model",
    "PlanError": "sim.planner.arithmetic", "simulate_plan": "sim.planner.simulation",
    "solve_plan": "sim.planner.simulation", "sweep": "sim.runs.sweep", "SweepResult": "sim.runs.sweep",
    "sensitivity": "sim.runs.sensitivity", "SensitivityResult": "sim.runs.sensitivity",
    "lag_aware": "sim.planner.headcount", "gap_breakdown": "sim.planner.gap",
}
_LAZY_MODULES = {"plots": "sim.present.plots", "stats": "sim.runs.stats"}
"""Modules a notebook reaches as ``from sim import plots, stats``."""


def __getattr__(name: str):
    # Lazy imports keep `import sim` light (the CLI's `validate` must start fast).
    import importlib

    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _LAZY_MODULES:
        return importlib.import_module(_LAZY_MODULES[name])
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
