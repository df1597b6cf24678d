"""salesim: a discrete-event, Monte Carlo simulator of a SaaS sales organization.

The public API, for notebooks and scripts (nothing runs on import)::

    import sim
    scenario = sim.load_scenario("scenarios/silo.yaml", overrides=["roles.ae.headcount=8"])
    result = sim.run(scenario, reps=200, seed=1, workers=2)
    result.summary()            # KPI table with 95% confidence intervals
    result.kpis                 # one row per replication
    result.timeseries           # rep × month × series (long format)
"""

from sim.scenario import Scenario, ScenarioError, load_scenario, scenario_from_dict

__all__ = ["Scenario", "ScenarioError", "load_scenario", "run", "scenario_from_dict", "simulate_one"]


def __getattr__(name: str):
    # Lazy imports keep `import sim` light (the CLI's `validate` must start fast).
    if name in {"run", "RunResult", "simulate_one"}:
        from sim import experiment

        return getattr(experiment, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
