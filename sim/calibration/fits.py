"""Fits of the funnel: arrivals, segment mix, dials to connect, qualification and speed to lead,
win rates and sales cycles, deal sizes.

This module owns the estimators of the lead and opportunity parameters of a scenario from a
validated export (:class:`~sim.calibration.reader.CrmExport`). Each function adds
:class:`~sim.calibration.estimates.Fitted` values (with sample size and 95% interval) to a
:class:`~sim.calibration.estimates.Calibration`, or says which base values it keeps and why. All
work is vectorised with pandas and NumPy: an export of a million activities is a few group-bys.

Only leads and opportunities created inside the observed period count: those created before it
are there because they survived until it began (the warm pipeline), which would bias every rate.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.calibration import glm
from sim.calibration.crmformat import CLOSED_WON
from sim.calibration.estimates import Calibration, Fitted
from sim.calibration.reader import CrmExport
from sim.scenario import Scenario
from sim.workcalendar import DAYS_PER_MONTH

MIN_COUNT = 30
"""Fewest observations (leads, deals) behind a fitted rate; fewer keep the base value."""
SEASONALITY_MONTHS = 24
"""Months of arrivals needed to fit 12 seasonal multipliers."""


def _window(export: CrmExport, days: np.ndarray) -> np.ndarray:
    return (days >= 0) & (days < export.period_days)


def arrivals(export: CrmExport, base: Scenario | None, cal: Calibration) -> None:
    """Inbound MQLs a month, growth (Poisson regression on month) and, with two years of data,
    seasonality; and the inbound segment mix."""
    leads = export.table("leads")
    inbound = leads[leads["source"] == "inbound"]
    t = export.days(inbound["created_at"])
    t = t[_window(export, t)]
    if base is not None and base.inbound is None:
        return
    if len(t) < MIN_COUNT:
        cal.keep("inbound.mqls_per_month", f"{len(t)} inbound leads in the period (fewer than {MIN_COUNT})")
        return
    n_months = math.ceil(export.period_days / DAYS_PER_MONTH - 1e-9)
    month = np.minimum((t // DAYS_PER_MONTH).astype(int), n_months - 1)
    counts = np.bincount(month, minlength=n_months)
    exposure = np.minimum(DAYS_PER_MONTH, export.period_days - np.arange(n_months) * DAYS_PER_MONTH) / DAYS_PER_MONTH
    m = np.arange(n_months, dtype=float)
    seasonal = n_months >= SEASONALITY_MONTHS
    columns = [np.ones(n_months), m]
    if seasonal:
        columns += [(m % 12 == k).astype(float) for k in range(1, 12)]
    fit = glm.poisson(np.column_stack(columns), counts, exposure)
    unit = f"MQLs over {n_months} months"
    row0 = np.zeros(len(columns))
    row0[0] = 1.0
    if seasonal:  # month 1 of the period carries the rate; the multipliers average to 1
        effects = np.concatenate([[0.0], fit.coef[2:]])
        level = np.log(np.mean(np.exp(effects)))
        season = np.exp(effects - level)
        row0 = row0.copy()
        row0[2:] = 0.0
        value, lo, hi = fit.interval(row0)
        value, lo, hi = value + level, lo + level, hi + level
        se = fit.se[2:]
        cal.fitted.append(Fitted(
            "inbound.seasonality", [round(float(s), 4) for s in season], len(t), unit, "month-1 multiplier",
            float(season[0]), float(season[0] * math.exp(-glm.Z95 * float(np.mean(se)))),
            float(season[0] * math.exp(glm.Z95 * float(np.mean(se)))),
            "Poisson regression with month-of-period effects (month 1 = the period's first)"))
    else:
        value, lo, hi = fit.interval(row0)
        cal.keep("inbound.seasonality", f"{n_months} months of arrivals (seasonality needs {SEASONALITY_MONTHS})")
    cal.fitted.append(Fitted("inbound.mqls_per_month", round(math.exp(value), 2), len(t), unit, "",
                             math.exp(value), math.exp(lo), math.exp(hi),
                             "Poisson regression of monthly counts on month (log link)"))
    b, b_lo, b_hi = fit.interval(np.eye(len(columns))[1])
    cal.fitted.append(Fitted("inbound.growth_per_month", round(math.expm1(b), 5), len(t), unit, "",
                             math.expm1(b), math.expm1(b_lo), math.expm1(b_hi), "same regression: exp(slope) − 1"))
    cal.tables["arrivals"] = [{"month": int(k) + 1, "mqls": int(c), "fitted": float(f)} for k, c, f in zip(
        m, counts, np.exp(np.column_stack(columns) @ fit.coef) * exposure, strict=True)]
    _segment_mix(inbound, t, export, base, cal)


def _segment_mix(inbound: pd.DataFrame, _t: np.ndarray, export: CrmExport, base: Scenario | None,
                 cal: Calibration) -> None:
    created = export.days(inbound["created_at"])
    seg = inbound.loc[_window(export, created), "segment"]
    counts = seg.value_counts()
    n = int(counts.sum())
    known = set(base.segments) if base is not None else set(counts.index)
    unknown = sorted(set(counts.index) - known)
    for s in unknown:
        cal.keep(f"segments.{s}", "a segment of the export that the base scenario does not have")
    mix = {str(s): round(float(c) / n, 4) for s, c in counts.items() if s in known}
    if not mix:
        return
    for s, share in mix.items():
        se = math.sqrt(share * (1 - share) / n)
        cal.fitted.append(Fitted(f"inbound.segment_mix.{s}", share, n, "inbound leads", "share", share,
                                 max(0.0, share - glm.Z95 * se), min(1.0, share + glm.Z95 * se), "share of leads"))


def calls_per_lead(export: CrmExport) -> pd.DataFrame:
    """Per lead with calls: calls made and whether one connected (vectorised group-by)."""
    acts = export.table("activities")
    calls = acts[acts["type"] == "call"]
    per = pd.DataFrame({"lead_id": calls["lead_id"].to_numpy(),
                        "connected": (calls["outcome"] == "connected").to_numpy()})
    return per.groupby("lead_id", sort=False)["connected"].agg(["size", "sum"]).rename(
        columns={"size": "calls", "sum": "connects"})


def dials_to_connect(export: CrmExport, base: Scenario | None, cal: Calibration) -> None:
    """Dials to connect, per source: a geometric number of calls up to the first connect.

    Each lead contributes its calls up to and including the first connect; a lead never reached
    contributes its calls as failures (right-censored: it might have connected later). The
    maximum-likelihood connect probability is then connects / calls, and the mean dials to
    connect is its inverse; the interval comes from the lead-level variance of that ratio. When
    a Kolmogorov–Smirnov test rejects the geometric, the empirical distribution is written."""
    per = calls_per_lead(export)
    if per.empty:
        for source in ("inbound", "outbound"):
            cal.keep(f"{source}.dials_to_connect", "no call activities in the export")
        return
    leads = export.table("leads").set_index("lead_id")
    created = pd.Series(export.days(leads["created_at"]), index=leads.index)
    per = per.join(leads[["source"]]).assign(created=created)
    per = per[_window(export, per["created"].to_numpy())]
    for source in ("inbound", "outbound"):
        path = f"{source}.dials_to_connect"
        if base is not None and getattr(base, source) is None:
            continue
        rows = per[per["source"] == source]
        calls, connects = int(rows["calls"].sum()), int(np.minimum(rows["connects"], 1).sum())
        if connects < MIN_COUNT:
            cal.keep(path, f"{connects} connected {source} leads (fewer than {MIN_COUNT})")
            continue
        p = connects / calls
        # the lead-level (sandwich) variance of a ratio: equal to the geometric model's when the
        # model holds, and honest when leads differ in how reachable they are
        residual = np.minimum(rows["connects"].to_numpy(), 1) - p * rows["calls"].to_numpy()
        se = math.sqrt(float(np.sum(residual * residual))) / calls
        p_lo, p_hi = max(p - glm.Z95 * se, 1e-9), min(p + glm.Z95 * se, 1.0)
        mean = 1.0 / p
        reached = rows.loc[rows["connects"] > 0, "calls"].to_numpy()
        distance, critical = geometric_ks(reached, p)
        value: dict = {"dist": "geometric", "mean": round(mean, 3)}
        method = "geometric: connects / calls, unreached leads right-censored"
        if distance > critical and base is not None:
            value = _empirical_dials(rows, base.contact.max_attempts)
            method = (f"geometric rejected (KS distance {distance:.3f} > {critical:.3f} at 1%): empirical calls to "
                      f"connect, leads never reached in {base.contact.max_attempts} calls as one more")
        cal.fitted.append(Fitted(path, value, len(rows), f"{source} leads called ({calls} calls)",
                                 "geometric-equivalent mean", mean, 1.0 / p_hi, 1.0 / p_lo, method,
                                 extra={"p": p, "ks_distance": distance, "ks_critical": critical}))


def geometric_ks(reached_calls: np.ndarray, p: float) -> tuple[float, float]:
    """Kolmogorov–Smirnov distance between the calls to connect of reached leads and a geometric
    with connect probability ``p`` conditioned on connecting within the most calls seen, and the
    1% critical value (conservative for a discrete distribution)."""
    n = reached_calls.size
    if n == 0:
        return 0.0, math.inf
    top = int(reached_calls.max())
    k = np.arange(1, top + 1)
    empirical = np.searchsorted(np.sort(reached_calls), k, side="right") / n
    fitted = (1 - (1 - p) ** k) / (1 - (1 - p) ** top)
    return float(np.max(np.abs(empirical - fitted))), 1.63 / math.sqrt(n)


def _empirical_dials(rows: pd.DataFrame, max_attempts: int) -> dict:
    """Calls to connect as an empirical distribution: each reached lead's calls, and
    ``max_attempts + 1`` for each lead that used up its cadence without a connect (the simulation
    then ends it as unreachable, as the CRM did). Leads still being worked are left out."""
    reached = rows.loc[rows["connects"] > 0, "calls"].to_numpy()
    exhausted = int(((rows["connects"] == 0) & (rows["calls"] >= max_attempts)).sum())
    values, counts = np.unique(reached, return_counts=True)
    values, counts = values.tolist(), counts.tolist()
    if exhausted:
        values.append(max_attempts + 1)
        counts.append(exhausted)
    return {"dist": "empirical", "values": [int(v) for v in values], "weights": [int(c) for c in counts]}


def _hours_knots(base: Scenario | None, delay_hours: np.ndarray) -> tuple[float, float]:
    """The delays between which the speed-to-lead effect is fitted: the base profile's first and
    last points, else the 5th and 95th percentiles of the observed delays."""
    if base is not None and base.inbound is not None:
        from sim.model.speed_to_lead import PROFILES

        spec = base.inbound.speed_to_lead
        points = spec.points if spec.profile == "custom" else PROFILES.get(spec.profile, ())
        if points and len(points) >= 2:
            return float(points[0][0]), float(points[-1][0])
    lo, hi = np.percentile(delay_hours, [5, 95])
    lo = max(float(lo), 1.0 / 60)
    return lo, max(float(hi), lo * 2)


def qualification(export: CrmExport, base: Scenario | None, cal: Calibration) -> None:
    """Inbound: P(SQL | reached) against the first-touch delay (logistic in log delay, flat
    outside two knots — the family of the simulation's ``speed_to_lead`` profiles with two
    points). Outbound: P(SQL | reached), written as ``sql_probability`` over the base
    ``lead_probability``."""
    leads = export.table("leads")
    created = export.days(leads["created_at"])
    reached = leads["status"].isin(["qualified", "disqualified"]).to_numpy() & _window(export, created)
    sql = (leads["status"] == "qualified").to_numpy()
    inbound = reached & (leads["source"] == "inbound").to_numpy()
    if base is None or base.inbound is not None:
        _speed_to_lead(export, leads[inbound], sql[inbound], created[inbound], base, cal)
    outbound = reached & (leads["source"] == "outbound").to_numpy()
    if base is not None and base.outbound is None:
        return
    n = int(outbound.sum())
    if n < MIN_COUNT:
        cal.keep("outbound.sql_probability", f"{n} reached outbound leads (fewer than {MIN_COUNT})")
        return
    share = float(sql[outbound].mean())
    se = math.sqrt(share * (1 - share) / n)
    lead_p = base.outbound.lead_probability if base is not None and base.outbound is not None else 1.0
    value = min(1.0, share / lead_p)
    cal.fitted.append(Fitted("outbound.sql_probability", round(value, 4), n, "reached outbound leads",
                             "P(SQL | reached)", share, max(0.0, share - glm.Z95 * se), min(1.0, share + glm.Z95 * se),
                             f"share qualified ÷ base lead_probability {lead_p:g} (the two are not separable)"))
    cal.keep("outbound.lead_probability",
             "not separable from sql_probability in a CRM export (their product is fitted)")


def _speed_to_lead(export: CrmExport, leads: pd.DataFrame, sql: np.ndarray, created: np.ndarray,
                   base: Scenario | None, cal: Calibration) -> None:
    n = len(leads)
    if n < MIN_COUNT:
        cal.keep("inbound.qualify_probability", f"{n} reached inbound leads (fewer than {MIN_COUNT})")
        return
    delay_h = (export.days(leads["first_touch_at"]) - created) * 24.0
    ok = np.isfinite(delay_h)
    delay_h, y = np.maximum(delay_h[ok], 1e-6), sql[ok].astype(float)
    lo, hi = _hours_knots(base, delay_h)
    x = np.log(np.clip(delay_h, lo, hi)) - math.log(lo)
    fit = glm.logistic(np.column_stack([np.ones(len(x)), x]), y)
    a, a_lo, a_hi = fit.interval(np.array([1.0, 0.0]))
    expit = lambda v: 1.0 / (1.0 + math.exp(-v))  # noqa: E731
    p0 = expit(a)
    cal.fitted.append(Fitted("inbound.qualify_probability", round(p0, 4), len(x), "reached inbound leads", "",
                             p0, expit(a_lo), expit(a_hi), f"logistic in log first-touch delay, at {lo:g} h"))
    span = math.log(hi) - math.log(lo)
    b, b_lo, b_hi = fit.interval(np.array([0.0, 1.0]))
    mult = math.exp(b * span)
    cal.fitted.append(Fitted(
        "inbound.speed_to_lead", {"profile": "custom", "points": [[round(lo, 4), 1.0], [round(hi, 4), round(mult, 5)]]},
        len(x), "reached inbound leads", f"odds multiplier at {hi:g} h vs {lo:g} h", mult,
        math.exp(b_lo * span), math.exp(b_hi * span), "same logistic regression: slope in log delay",
        extra={"slope": b, "slope_low": b_lo, "slope_high": b_hi}))
    cal.keep("inbound.response_minutes", "a CRM records first-touch delays, which mix pick-up time with queueing")


def _closed_opportunities(export: CrmExport) -> pd.DataFrame:
    """Opportunities created in the period and old enough to have closed: those created in the
    last 95th percentile of cycle lengths are left out (their fast losses are in, their slow wins
    are not)."""
    opps = export.table("opportunities").copy()
    opps["created"] = export.days(opps["created_at"])
    opps["closed"] = export.days(opps["closed_at"])
    opps = opps[_window(export, opps["created"].to_numpy())]
    cycle = (opps["closed"] - opps["created"]).dropna()
    cutoff = export.period_days - (float(np.percentile(cycle, 95)) if len(cycle) else 0.0)
    return opps[(opps["created"] < cutoff)].assign(cycle=opps["closed"] - opps["created"])


def opportunities(export: CrmExport, base: Scenario | None, cal: Calibration) -> None:
    """Per segment: the win rate (as meeting pass probabilities) and the meeting gaps (from won
    deals' cycles), and the stage table for the report."""
    opps = _closed_opportunities(export)
    closed = opps[opps["won"].notna()]
    _stage_table(export, cal)
    for segment, rows in closed.groupby("segment"):
        seg = str(segment)
        if base is not None and seg not in base.segments:
            continue
        path = f"segments.{seg}.opportunity"
        n = len(rows)
        if n < MIN_COUNT:
            cal.keep(f"{path}.pass_probability", f"{n} closed {seg} opportunities (fewer than {MIN_COUNT})")
            continue
        won = rows["won"].astype(bool).to_numpy()
        w = float(won.mean())
        se = math.sqrt(max(w * (1 - w), 1e-12) / n)
        passes, gap = _meeting_chain(base, seg, w, rows["cycle"].to_numpy()[won])
        cal.fitted.append(Fitted(f"{path}.pass_probability", passes, n, f"closed {seg} opportunities", "win rate", w,
                                 max(0.0, w - glm.Z95 * se), min(1.0, w + glm.Z95 * se),
                                 "share won; the base's pass probabilities scaled to it"))
        if gap is not None:
            cal.fitted.append(gap(path, int(won.sum())))
        else:
            cal.keep(f"{path}.gap_days", "base gap distribution is not lognormal, exponential or constant")


def _meeting_chain(base: Scenario | None, seg: str, win_rate: float, won_cycles: np.ndarray):
    """Pass probabilities whose product (after the base hand-off's odds multiplier on the first)
    is the win rate, shaped like the base's; and a builder of the fitted gap distribution."""
    from sim.model.engine.odds import scale_odds

    if base is None:
        passes, gap_spec, mult = [1.0], None, 1.0
    else:
        spec = base.segments[seg].opportunity
        passes = spec.pass_probabilities()
        gap_spec = spec.gap_days
        mult = base.handoff.win_odds_multiplier if base.handoff is not None else 1.0
    k = len(passes)
    scaled = list(passes)
    for _ in range(60):  # scale the chain to the win rate, capped at 1
        product = float(np.prod(scaled))
        if product <= 0 or abs(product - win_rate) < 1e-12:
            break
        free = [i for i, p in enumerate(scaled) if p < 1.0] or list(range(k))
        factor = (win_rate / product) ** (1.0 / len(free))
        for i in free:
            scaled[i] = min(1.0, scaled[i] * factor)
    scaled[0] = scale_odds(scaled[0], 1.0 / mult) if 0 < scaled[0] < 1 and mult != 1.0 else scaled[0]
    scaled = [round(min(1.0, max(0.0, p)), 4) for p in scaled]

    if len(won_cycles) < MIN_COUNT // 3:
        return scaled, None
    mean_gap = float(np.mean(won_cycles)) / k
    se_gap = float(np.std(won_cycles, ddof=1)) / k / math.sqrt(len(won_cycles))
    dist = "lognormal" if gap_spec is None else gap_spec.dist
    if dist == "lognormal":
        sigma = 0.6 if gap_spec is None else float(gap_spec.sigma)
        factor = math.exp(sigma * sigma / 2.0)  # mean / median of a lognormal
        value = {"dist": "lognormal", "median": round(mean_gap / factor, 3), "sigma": sigma}
        quantity = "median"
    elif dist == "exponential":
        value, quantity, factor = {"dist": "exponential", "mean": round(mean_gap, 3)}, "mean", 1.0
    elif dist == "constant":
        value, quantity, factor = {"dist": "constant", "value": round(mean_gap, 3)}, "value", 1.0
    else:
        return scaled, None
    est = mean_gap / factor

    def build(path: str, n: int) -> Fitted:
        return Fitted(f"{path}.gap_days", value, n, "won deals", quantity, est,
                      (mean_gap - glm.Z95 * se_gap) / factor, (mean_gap + glm.Z95 * se_gap) / factor,
                      f"mean won cycle ÷ {k} meetings (shape kept from the base)")

    return scaled, build


def _stage_table(export: CrmExport, cal: Calibration) -> None:
    """Per stage: opportunities that entered it, the share of them later won, and the median
    days until the next stage (for the report; the stage history's own words)."""
    stages = export.table("opportunity_stages")
    if stages.empty:
        return
    s = stages.assign(t=export.days(stages["entered_at"])).sort_values(["opportunity_id", "t"], kind="stable")
    s["next_t"] = s.groupby("opportunity_id", sort=False)["t"].shift(-1)
    won_ids = set(s.loc[s["stage"] == CLOSED_WON, "opportunity_id"])
    s["won"] = s["opportunity_id"].isin(won_ids)
    rows = []
    for stage, g in s.groupby("stage", sort=False):
        rows.append({"stage": str(stage), "entered": len(g), "won_share": round(float(g["won"].mean()), 4),
                     "median_days_in_stage": round(float((g["next_t"] - g["t"]).median()), 2)
                     if g["next_t"].notna().any() else None})
    cal.tables["stages"] = rows


def deal_size(export: CrmExport, base: Scenario | None, cal: Calibration) -> None:
    """Per segment: the MRR of won deals as a lognormal (median and sigma of the log)."""
    opps = export.table("opportunities")
    created = export.days(opps["created_at"])
    won = opps[_window(export, created) & (opps["won"] == True) & (opps["mrr_usd"] > 0)]  # noqa: E712
    for segment, rows in won.groupby("segment"):
        seg = str(segment)
        if base is not None and seg not in base.segments:
            continue
        logs = np.log(rows["mrr_usd"].to_numpy(dtype=float))
        n = len(logs)
        path = f"segments.{seg}.mrr_usd"
        if n < MIN_COUNT:
            cal.keep(path, f"{n} won {seg} deals with an amount (fewer than {MIN_COUNT})")
            continue
        mu, sd = float(logs.mean()), float(logs.std(ddof=1))
        half = glm.Z95 * sd / math.sqrt(n)
        from scipy.stats import chi2

        s_lo = sd * math.sqrt((n - 1) / chi2.ppf(0.975, n - 1))
        s_hi = sd * math.sqrt((n - 1) / chi2.ppf(0.025, n - 1))
        value = {"dist": "lognormal", "median": round(math.exp(mu), 2), "sigma": round(sd, 4)}
        cal.fitted.append(Fitted(path, value, n, f"won {seg} deals", "median", math.exp(mu), math.exp(mu - half),
                                 math.exp(mu + half), "lognormal: mean and sd of log MRR",
                                 extra={"sigma": sd, "sigma_low": s_lo, "sigma_high": s_hi}))
