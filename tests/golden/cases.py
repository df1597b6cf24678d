"""The cases whose outputs must stay bit-identical across refactors (``golden.json``).

Each case is a scenario file with ``--set`` overrides, a seed and replication indices. The
"kitchen sink" case switches on what the shipped scenarios leave off (warm start, interns,
outsourcing, promotion, coaching, waves, targets, recruiting cap, exit policy) so that every
process of the world is covered.

Regenerate ``golden.json`` only for a change that is *meant* to change results, and say so in
the commit: ``python -m tests.golden.cases --write``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).with_name("golden.json")

KITCHEN_SINK = [
    "roles.mdr.promotion={to: sdr, after_months: 5}",
    "roles.sdr.manager={span: 3, coached_per_manager: 1, ramp_slowdown: 0.5}",
    "roles.sdr.interns={count: 2, start_month: 3, term_months: 6, monthly_cost_usd: 2000}",
    "roles.sdr.outsourced={reps: 2, start_month: 2, end_month: 8, price_per_month_usd: 5000, price_per_sql_usd: 50}",
    "hiring={waves: [{month: 4, role: ae, count: 2}], targets: {csm: {6: 3, 12: 4}}, hires_per_month: 2}",
    "workforce.exit_policy=lose",
    "warm_start={pipeline: [{stage: mql, segment: smb, count: 20, age_days: 2},"
    " {stage: sql, segment: smb, count: 10, age_days: 3}, {stage: opportunity, segment: mid_market, count: 15,"
    " age_days: 20}], customers: [{segment: smb, count: 60, mrr_usd: {dist: lognormal, median: 900, sigma: 0.5},"
    " age_months: 10}]}",
]

CASES: dict[str, tuple[str, list[str]]] = {
    "silo": ("scenarios/silo.yaml", []),
    "pod": ("scenarios/pod.yaml", []),
    "hybrid": ("scenarios/hybrid.yaml", []),
    "hiring_front_loaded": ("scenarios/hiring_front_loaded.yaml", []),
    "hiring_back_loaded": ("scenarios/hiring_back_loaded.yaml", []),
    "ref": ("benchmarks/scenarios/ref.yaml", []),
    "silo_deterministic": ("scenarios/silo.yaml", ["deterministic=true"]),
    "silo_kitchen_sink": ("scenarios/silo.yaml", KITCHEN_SINK),
    "pod_spill_round_robin": ("scenarios/pod.yaml", ["org.overflow=spill", "org.routing=round_robin",
                                                     "inbound.queue_order=newest_first"]),
    "reorg_pod_m4": ("scenarios/reorg_pod_m4.yaml", []),
    "reorg_pod_effects_keep": ("scenarios/reorg_pod_m4.yaml", [
        "reorg.0.pipeline=keep", "reorg.0.accounts=follow_owner", "reorg.0.headcount={ae: 8, sdr: 3}",
        "reorg.0.org.pods.east.composition.ae=4", "reorg.0.org.pods.west.composition.ae=4",
        "reorg.0.org.pods.west.composition.sdr=1",
        "reorg.0.org.pod_effects={ramp_speed_multiplier: 1.5, attrition_hazard_multiplier: 0.8, "
        "churn_hazard_multiplier: 0.9, win_odds_multiplier: 1.1, pod_lead: {role: ae, selling_share: 0.5}}"]),
    "silo_dated": ("scenarios/silo.yaml", [
        "start_date=2026-01-01", "calendar.holidays=[2026-01-19, 2026-02-16, 2026-05-25, 2026-07-03, 2026-11-26]",
        "calendar.pto_days_per_year=15", "calendar.sick_days_per_year=5", "hiring.hires_per_month=1",
        "hiring.waves=[{month: 2026-03-10, role: ae, count: 2}]"]),
}
SEEDS = (1, 20_261_126)
REPLICATIONS = (0, 3)


def _digest(array: np.ndarray) -> str:
    array = np.ascontiguousarray(array)
    return hashlib.sha256(array.dtype.str.encode() + array.tobytes()).hexdigest()[:24]


def outputs(case: str, seed: int, replication: int) -> dict:
    """KPIs (exact, as repr strings), and digests of every monthly series and lead column."""
    import sim
    from sim.metrics import kpis as kpis_of
    from sim.metrics import monthly_series
    from sim.model.world import simulate

    path, overrides = CASES[case]
    scenario = sim.load_scenario(ROOT / path, overrides=overrides)
    log = simulate(scenario, seed, replication)
    series = monthly_series(log, scenario)
    kpis = kpis_of(log, scenario, series)
    leads = log.lead_table()
    return {
        "kpis": {name: repr(float(value)) for name, value in kpis.items()},
        "series": {name: _digest(np.asarray(values, dtype=float)) for name, values in series.items()},
        "leads": {name: _digest(column) for name, column in leads.items()},
    }


def all_outputs() -> dict:
    return {f"{case}/{seed}/{rep}": outputs(case, seed, rep)
            for case in CASES for seed in SEEDS for rep in REPLICATIONS}


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m tests.golden.cases --write")
    GOLDEN.write_text(json.dumps(all_outputs(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN}")
