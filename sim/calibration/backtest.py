"""The backtest: simulate the observed period from its starting state and compare the history
with the simulated bands, month by month.

This module owns :func:`backtest`. From a fitted scenario's data and a validated export it builds
the *backtest scenario* (:func:`backtest_data`): the period's length as the horizon, each role's
headcount and tenures on the first day from the people table and its monthly headcount as hiring
targets, and a warm start from the export's state on the first day (open opportunities, MQLs not
yet worked, installed customers with their MRR and age). It runs replications of it
(:func:`sim.runs.monte_carlo.run`), computes the same monthly series from the export
(:func:`actual_series`) and counts the months inside the simulated 50% and 90% bands. The verdict
is "calibrated" only when, for every monthly flow (MQLs, SQLs, wins, new and churned MRR), the
history is not outside the bands more often than they allow: one-sided binomial tests on the
months inside the 50% and the 90% band, against the coverage a band estimated from R replications
really has (:func:`expected_coverage`), at 1% overall (Bonferroni across the flows). The MRR level
is a running sum of the flows: its coverage is reported, not tested. The installed base is placed
account by account (its MRR and age as exported), so the simulated MRR starts where the history
does. Figures are drawn by :mod:`sim.present.backtest_plots`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.reader import CrmExport
from sim.workcalendar import DAYS_PER_MONTH

SERIES = ("mqls", "sqls", "wins", "new_mrr_usd", "churned_mrr_usd", "mrr_usd")
"""The monthly series compared."""
LEVELS = ("mrr_usd",)
"""Series that are running sums of the others: shown and counted, but not tested (one early
deviation carries into every later month, so their months are far from independent)."""
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
ALPHA = 0.01
"""Level of the verdict: the chance that a history the model did generate is called "not
calibrated" (Bonferroni across the tested series)."""


@dataclass
class Backtest:
    """A backtest's numbers: per series and month the history and the simulated quantiles
    (``table``), per series the months inside each band (``coverage``), and the verdict."""

    table: pd.DataFrame
    coverage: pd.DataFrame
    calibrated: bool
    verdict: str
    reps: int
    months: int


def period_months(export: CrmExport) -> int:
    return max(1, round(export.period_days / DAYS_PER_MONTH))


def _month(days: np.ndarray, months: int) -> np.ndarray:
    """1-based month of each time, as :mod:`sim.metrics` buckets them (clipped into 1..months)."""
    return np.clip(np.floor(days / DAYS_PER_MONTH).astype(int) + 1, 1, months)


def backtest_data(fitted: dict[str, Any], export: CrmExport) -> dict[str, Any]:
    """The fitted scenario's data set up to replay the export's period from its first day."""
    data = copy.deepcopy(fitted)
    months = period_months(export)
    data["horizon_months"] = months
    data.pop("start_date", None)  # months of 365.25/12 days from the period's first day, as compared
    calendar = data.get("calendar") or {}
    for key in ("holidays", "holiday_country"):
        calendar.pop(key, None)
    _people(data, export, months)
    warm = _warm_start(data, export)
    if warm:
        data["warm_start"] = warm
    else:
        data.pop("warm_start", None)
    return data


def _people(data: dict[str, Any], export: CrmExport, months: int) -> None:
    people = export.table("people")
    if people.empty:
        return
    start = export.days(people["started_at"])
    end = export.days(people["ended_at"])
    end = np.where(np.isnan(end), np.inf, end)
    targets: dict[str, dict[int, int]] = {}
    for role, spec in (data.get("roles") or {}).items():
        mine = (people["role"] == role).to_numpy()
        if not mine.any():
            continue
        present = mine & (start <= 0) & (end > 0)
        tenures = sorted(round(float(-t) / DAYS_PER_MONTH, 2) for t in start[present])
        spec["headcount"] = len(tenures)
        spec["initial_tenure_months"] = tenures if tenures else 0
        counts = {m: int(np.sum(mine & (start <= (m - 1) * DAYS_PER_MONTH) & (end > (m - 1) * DAYS_PER_MONTH)))
                  for m in range(2, months + 1)}
        if any(c != len(tenures) for c in counts.values()):
            targets[role] = counts
    if targets:
        hiring = data.setdefault("hiring", {})
        hiring["targets"] = {**(hiring.get("targets") or {}), **targets}


def _warm_start(data: dict[str, Any], export: CrmExport) -> dict[str, Any]:
    """Open opportunities, unworked MQLs and customers on the period's first day."""
    segments = set(data.get("segments") or {})
    pipeline: list[dict[str, Any]] = []
    opps = export.table("opportunities")
    created = export.days(opps["created_at"])
    closed = export.days(opps["closed_at"])
    is_open = (created < 0) & ~(closed < 0)
    for segment, ages in pd.Series(-created[is_open]).groupby(opps["segment"].to_numpy()[is_open]):
        if segment in segments:
            pipeline.append({"stage": "opportunity", "segment": str(segment), "count": len(ages),
                             "age_days": round(float(ages.median()), 2)})
    leads = export.table("leads")
    l_created = export.days(leads["created_at"])
    touched = export.days(leads["first_touch_at"])
    waiting = (l_created < 0) & ~(touched < 0) & (leads["source"] == "inbound").to_numpy()
    waiting &= ~leads["status"].isin(["stale", "lost"]).to_numpy()
    if "qualified_at" in leads:
        waiting &= ~(export.days(leads["qualified_at"]) < 0)  # already an SQL: counted with its deal
    for segment, ages in pd.Series(-l_created[waiting]).groupby(leads["segment"].to_numpy()[waiting]):
        if segment in segments:
            pipeline.append({"stage": "mql", "segment": str(segment), "count": len(ages),
                             "age_days": round(float(ages.median()), 2)})
    customers: list[dict[str, Any]] = []
    accounts = export.table("accounts")
    a_start = export.days(accounts["started_at"])
    a_end = export.days(accounts["ended_at"])
    active = (a_start < 0) & ~(a_end <= 0) & (accounts["mrr_usd"] > 0).to_numpy()
    ages = np.round(-a_start[active] / DAYS_PER_MONTH, 3)
    for segment, value, age in zip(accounts["segment"].to_numpy()[active],
                                   accounts["mrr_usd"].to_numpy(dtype=float)[active], ages, strict=True):
        if segment in segments:  # one item per account: the installed base exactly as it was
            customers.append({"segment": str(segment), "count": 1,
                              "mrr_usd": {"dist": "constant", "value": round(float(value), 2)},
                              "age_months": float(age)})
    return {k: v for k, v in (("pipeline", pipeline), ("customers", customers)) if v}


def actual_series(export: CrmExport, months: int, warm_sqls: int = 0) -> pd.DataFrame:
    """The export's monthly series (months 1..``months``), bucketed as :mod:`sim.metrics` does.
    ``warm_sqls``: SQLs of the warm start, which the simulation counts in month 1."""
    out = pd.DataFrame(0.0, index=pd.RangeIndex(1, months + 1, name="month"), columns=list(SERIES))
    horizon = months * DAYS_PER_MONTH

    def add(name: str, days: np.ndarray, weights: np.ndarray | None = None) -> None:
        ok = (days >= 0) & (days < horizon)
        w = np.ones(int(ok.sum())) if weights is None else weights[ok]
        out[name] += np.bincount(_month(days[ok], months), weights=w, minlength=months + 1)[1:]

    leads = export.table("leads")
    add("mqls", export.days(leads.loc[leads["source"] == "inbound", "created_at"]))
    add("sqls", export.days(leads["qualified_at"]) if "qualified_at" in leads else np.empty(0))
    out.loc[1, "sqls"] += warm_sqls
    opps = export.table("opportunities")
    won = (opps["won"] == True).to_numpy()  # noqa: E712
    close = export.days(opps["closed_at"])
    add("wins", close[won])
    add("new_mrr_usd", close[won], opps["mrr_usd"].fillna(0.0).to_numpy()[won])
    accounts = export.table("accounts")
    start = export.days(accounts["started_at"])
    end = export.days(accounts["ended_at"])
    mrr = accounts["mrr_usd"].to_numpy(dtype=float)
    changes = export.table("mrr_changes")
    c_at = export.days(changes["at"])
    c_idx = pd.Index(accounts["account_id"]).get_indexer(changes["account_id"])
    c_delta = changes["mrr_delta_usd"].to_numpy(dtype=float)
    at_end = mrr.copy()
    if len(changes):
        before_end = (c_idx >= 0) & ~(c_at > np.where(np.isnan(end), np.inf, end)[np.maximum(c_idx, 0)])
        np.add.at(at_end, c_idx[before_end], c_delta[before_end])
    add("churned_mrr_usd", end, at_end)
    level = []
    for m in range(1, months + 1):
        t = m * DAYS_PER_MONTH
        alive = (start < t) & ~(end < t)
        value = float(mrr[alive].sum())
        if len(changes):
            live_change = (c_idx >= 0) & (c_at < t)
            live_change[live_change] &= alive[c_idx[live_change]]
            value += float(c_delta[live_change].sum())
        level.append(value)
    out["mrr_usd"] = level
    return out


def expected_coverage(level: float, reps: int) -> float:
    """The chance that one more draw lands inside a band of ``level`` estimated from ``reps``
    replications (quantiles interpolated between order statistics): ``level × (R − 1) / (R + 1)``.
    With 16 replications a "90%" band holds 79% of new draws; testing against 90% would call a
    correct model wrong."""
    return level * (reps - 1) / (reps + 1)


def _coverage(table: pd.DataFrame, reps: int) -> tuple[pd.DataFrame, bool, str]:
    from scipy.stats import binom

    rows, failing = [], []
    tested_count = sum(1 for name in table["series"].unique() if name not in LEVELS)
    alpha = ALPHA / max(tested_count, 1)
    p50, p90 = expected_coverage(0.5, reps), expected_coverage(0.9, reps)
    for name, part in table.groupby("series", sort=False):
        n = len(part)
        a = part["actual"]
        in50 = int(((a >= part["q25"]) & (a <= part["q75"])).sum())
        in90 = int(((a >= part["q05"]) & (a <= part["q95"])).sum())
        ok = bool(binom.cdf(in90, n, p90) > alpha and binom.cdf(in50, n, p50) > alpha)
        tested = name not in LEVELS
        rows.append({"series": name, "months": n, "inside_50": in50, "share_50": in50 / n, "inside_90": in90,
                     "share_90": in90 / n, "consistent": ok if tested else None})
        if tested and not ok:
            failing.append(str(name))
    coverage = pd.DataFrame(rows).set_index("series")
    if failing:
        return coverage, False, ("not calibrated: the history falls outside the simulated bands more often than "
                                 f"they allow for {', '.join(failing)}")
    return coverage, True, "calibrated: every monthly flow stays inside the simulated bands as often as they allow"


def backtest(fitted: dict[str, Any], export: CrmExport, reps: int = 40, seed: int = 1,
             workers: int | None = None, executor: Any = None) -> Backtest:
    """Simulate the export's period with the fitted scenario (data, ``extends`` resolved) and
    compare; see the module docstring."""
    from sim.runs.monte_carlo import run
    from sim.scenario import scenario_from_dict

    data = backtest_data(fitted, export)
    scenario = scenario_from_dict(data)
    months = scenario.horizon_months
    result = run(scenario, reps=reps, seed=seed, workers=workers, executor=executor)
    warm_sqls = sum(item["count"] for item in (data.get("warm_start") or {}).get("pipeline", [])
                    if item["stage"] in ("sql", "opportunity"))
    actual = actual_series(export, months, warm_sqls)
    parts = []
    for name in SERIES:
        fan = result.fan(name, QUANTILES).loc[1:months]
        fan.columns = ["q05", "q25", "q50", "q75", "q95"]
        parts.append(fan.assign(series=name, actual=actual[name].to_numpy()).reset_index())
    table = pd.concat(parts, ignore_index=True)[["series", "month", "actual", "q05", "q25", "q50", "q75", "q95"]]
    coverage, calibrated, verdict = _coverage(table, reps)
    return Backtest(table, coverage, calibrated, verdict, reps, months)
