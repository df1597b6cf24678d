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
"""

from sim.scenario import Scenario, ScenarioError, load_scenario, scenario_from_dict

__all__ = [
    "Comparison", "PlanError", "PlanTarget", "RunResult", "SalesModel", "Scenario", "ScenarioError", "compare",
    "load_scenario", "plan", "run", "run_to_precision", "scenario_from_dict", "simulate_one", "simulate_plan",
    "solve_plan",
]

_LAZY = {
    "run": "sim.experiment", "run_to_precision": "sim.experiment", "RunResult": "sim.experiment",
    "simulate_one": "sim.experiment", "compare": "sim.comparison", "Comparison": "sim.comparison",
    "plan": "sim.planning", "PlanTarget": "sim.planning", "SalesModel": "sim.planning", "PlanError": "sim.planning",
    "simulate_plan": "sim.plan_simulation", "solve_plan": "sim.plan_simulation",
}


def __getattr__(name: str):
    # Lazy imports keep `import sim` light (the CLI's `validate` must start fast).
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
