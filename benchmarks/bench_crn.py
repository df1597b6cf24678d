"""Common random numbers: how much pairing replications by seed tightens a comparison.

Runs ``scenarios/silo.yaml`` over 12 months with 5 AEs (A) and with 6 AEs (B) under the same
seed, so replication r of both sees the same market (the same MQLs, deal sizes, ...), and
B once more under another seed (an honest unpaired comparison). For each metric it prints
the means, the paired difference B - A with its 95% CI, var(B - A) against var(A) + var(B)
(what the difference's variance would be if the runs were independent), their ratio, and
the 95% CI half-width of the difference unpaired (Welch) vs paired.

By default the scenario is scaled down to a quarter of its volume as in ``tests/test_crn.py``;
``--full`` uses the shipped volumes (about 4x slower).

Usage::

    python benchmarks/bench_crn.py [--reps 100] [--workers N] [--seed S] [--full]
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
from scipy import stats as sps

from sim.runs import executors, monte_carlo, stats
from sim.scenario import Scenario, load_scenario

SILO = Path(__file__).resolve().parents[1] / "scenarios" / "silo.yaml"
SMALL = [  # the scaled-down silo of tests/test_crn.py
    "inbound.mqls_per_month=100",
    "outbound.prospects_per_rep_month=120",
    "roles.mdr.dials_per_day=60",
    "roles.sdr.dials_per_day=40",
    "roles.ae.max_open_opportunities=7",
]
AE_TENURES = [6, 12, 18, 24, 30, 40]
METRICS = ("exit_arr_usd", "wins", "new_mrr_usd")


def scenario(ae: int, full: bool, horizon: int) -> Scenario:
    overrides = [] if full else list(SMALL)
    overrides += [f"horizon_months={horizon}", f"roles.ae.headcount={ae}",
                  f"roles.ae.initial_tenure_months={AE_TENURES[:ae]}"]
    return load_scenario(SILO, overrides)


def welch_half_width(a: np.ndarray, b: np.ndarray, confidence: float = 0.95) -> float:
    """Half-width of the CI of mean(b) - mean(a) for independent samples (Welch)."""
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    if va + vb == 0:
        return 0.0
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    return float(sps.t.ppf(0.5 + confidence / 2, df) * math.sqrt(va + vb))


def fmt(x: float) -> str:
    return f"{x:,.4g}" if abs(x) < 1e4 else f"{x:,.0f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=100, help="replications per scenario (default 100)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    parser.add_argument("--seed", type=int, default=2026, help="root seed (default 2026)")
    parser.add_argument("--horizon", type=int, default=12, help="months (default 12)")
    parser.add_argument("--full", action="store_true", help="the shipped volumes instead of a quarter")
    args = parser.parse_args(argv)

    a_scn, b_scn = scenario(5, args.full, args.horizon), scenario(6, args.full, args.horizon)
    workers = args.workers or executors.default_workers()
    started = time.perf_counter()
    pool = executors.process_pool(workers) if workers > 1 else None
    try:
        kw = dict(reps=args.reps, executor=pool, workers=1 if pool is None else None)
        a = monte_carlo.run(a_scn, seed=args.seed, **kw)
        b = monte_carlo.run(b_scn, seed=args.seed, **kw)
        b_indep = monte_carlo.run(b_scn, seed=args.seed + 1, **kw)
    finally:
        if pool is not None:
            pool.shutdown()
    elapsed = time.perf_counter() - started
    for r in (a, b, b_indep):
        if r.failures:
            raise SystemExit(f"{len(r.failures)} replication(s) failed: {r.failures[0]['error']}")

    size = "full volume" if args.full else "quarter volume"
    print(f"silo, {args.horizon} months, {size}: A = 5 AEs, B = 6 AEs; {args.reps} replications each, "
          f"seed {args.seed}, {workers} worker(s), {elapsed:.1f} s for {3 * args.reps} replications")
    mqls_equal = bool(np.array_equal(a.kpis["mqls"], b.kpis["mqls"]))
    print(f"same market under the same seed (mqls equal in every replication): {mqls_equal}\n")
    for metric in METRICS:
        x, y = a.kpis[metric].to_numpy(), b.kpis[metric].to_numpy()
        d = stats.paired_difference(x, y)
        var_diff = float(np.var(y - x, ddof=1))
        var_sum = float(x.var(ddof=1) + y.var(ddof=1))
        ratio = stats.variance_reduction(x, y)
        paired_hw = (d.ci_high - d.ci_low) / 2
        unpaired_hw = welch_half_width(x, y)
        z = b_indep.kpis[metric].to_numpy()
        indep = stats.paired_difference(x, z)
        print(f"{metric}")
        print(f"  mean A {fmt(d.mean_a)}   mean B {fmt(d.mean_b)}")
        print(f"  paired difference B - A: {fmt(d.diff_mean)}  95% CI [{fmt(d.ci_low)}, {fmt(d.ci_high)}]")
        print(f"  var(B - A) paired {fmt(var_diff)}   var(A) + var(B) unpaired {fmt(var_sum)}   "
              f"ratio {ratio:.1f}")
        print(f"  95% CI half-width of B - A: unpaired {fmt(unpaired_hw)}   paired {fmt(paired_hw)}   "
              f"({unpaired_hw / paired_hw:.1f}x narrower, i.e. {(unpaired_hw / paired_hw) ** 2:.0f}x fewer "
              "replications for the same precision)")
        print(f"  control, B on seed {args.seed + 1}: B - A = {fmt(indep.diff_mean)}  "
              f"95% CI [{fmt(indep.ci_low)}, {fmt(indep.ci_high)}], "
              f"variance ratio {stats.variance_reduction(x, z):.2f}\n")


if __name__ == "__main__":
    main()
