"""The analytic Blueprint sales model: revenue target → funnel → headcount → dated hiring plan.

This module owns the *planner*: deterministic arithmetic, no simulation and no randomness.
It answers the book's question "what org do I need for this number?"
(docs/background/domain-model.md#revenue-arithmetic) in four steps:

1. **Revenue arithmetic** — new MRR booked evenly, month by month, is counted as salesim
   counts it: the revenue of month *m* is the MRR at the end of month *m*, and a deal signed
   in month *k* bills from month *k*. A constant monthly new MRR of $1 therefore yields
   ``12 + 11 + … + 1 = 78`` dollars of first-year revenue (:func:`first_year_factor`) and
   ``12 × 12 = 144`` dollars of exit ARR (:func:`exit_arr_factor`); churn and an invoice lag
   shrink the first-year factor.
2. **Funnel** — :func:`plan` turns the monthly new MRR into deals (by the deal-size blend of
   the segment mix), SQLs (÷ win rate), inbound and outbound SQLs (the SQL source split),
   MQLs and prospects (÷ their conversion to an SQL that reaches a closer) and dials.
3. **Headcount** — each role's work divided by one fully ramped rep's capacity gives the
   fully ramped, always-staffed reps needed (``fte_needed``); dividing by the share of a
   seat's time that is staffed *and* productive (attrition vacancies and the ramp of the
   replacements) gives ``headcount_exact``, rounded up to ``headcount``.
4. **Hiring plan** — the month each rep must start, and the month its requisition must open,
   so that its ramped capacity plus the sales-cycle lag delivers the target from month 1.

The sales model (:class:`SalesModel`) is plain numbers per segment, lead source and role; it
is either built from a validated :class:`sim.scenario.Scenario` (:meth:`SalesModel.from_scenario`)
or written directly (the book's POD example). A plan can be written back as scenario data
(:meth:`Plan.to_scenario_dict`) to be simulated. Bad input raises :class:`PlanError`
(a ``ValueError``) with a message for a person.

Formulas (``D`` = 365.25 / 12 days per month, ``R(n; c) = Σ_{i=0..n-1} (1-c)^i``):

* MRR at the end of month *n* per $1 of monthly new MRR: ``R(n; c)`` (the cohort signed in
  month *n* has not churned yet at the end of that month).
* First-year factor with monthly churn *c* and an invoice lag of *L* months (a deal signed in
  month *k* is first invoiced in month *k + L*; churn runs from signing, so the lag delays
  billing but not the customer's life): revenue of month *j* = ``(1-c)^L R(j-L; c)``, hence
  ``F(c, L) = (1-c)^L Σ_{k=1..12-L} R(k; c)`` — 78 for (0, 0), 66 for (0, 1),
  ``Σ_{k=1..12} (1-(1-c)^k)/c`` for (c, 0).
* Exit ARR factor: ``12 R(12; c)`` (144 without churn; the lag does not change contracted MRR).
* Win rate of a segment: product of the meeting pass probabilities, the first meeting's odds
  multiplied by the hand-off's ``win_odds_multiplier`` (context lost between functions).
* Opportunity duration (won or lost; Little's law for closers): ``gap × Σ_{i=1..n} P(reach
  meeting i)`` with ``P(reach meeting i) = Π_{j<i} p_j``; a closer's workload in open
  opportunities is Σ SQLs × duration, its capacity ``max_open_opportunities``.
* Development capacity: ``dials_per_day × working days per month ÷ E[dials used per lead]``
  with ``dials used = min(max(1, round(dials_to_connect)), max_attempts)``; an outbound rep
  is also capped by ``prospects_per_rep_month``.
* Seat shares (renewal–reward, one seat cycling through a rep's tenure *T* and a vacancy *F*
  while the requisition is filled): ``vacancy = E[F] / (E[T] + E[F])`` and
  ``ramp loss = E[∫_0^T (1 - ramp(t)) dt] / (E[T] + E[F])`` (computed exactly from the tenure
  distribution's survival function). Where the scenario charges interviewing time
  (``hiring.recruiting_load_fte`` L per open requisition, shared by the staffed reps), the
  staffed reps keep ``1 - L × vacancy / (1 - vacancy)`` of their time. Then
  ``headcount_exact = fte_needed / ((1 - vacancy - ramp loss) × (1 - L × vacancy / (1 - vacancy)))``.
  Without attrition all losses are 0 (apart from a ramp plateau below 1). Without backfill the
  shares are the expected empty / ramping time of a seat over the plan's horizon for a rep on
  staff at tenure 12 (and no requisition is open).
* Hiring rule: rep *k* of a role is *needed* from month ``n_k`` (month 1 for development
  reps and closers — the target starts in month 1; for the customer role, the first month
  in which the expected accounts exceed ``(k - 1) ×`` one seat's effective coverage). It must
  start in month ``n_k - ramp_to_full - lead`` where ``ramp_to_full`` is the months until its
  ramp reaches its plateau and ``lead`` is the whole months between a rep's work and the
  revenue it makes (closers: the won-deal cycle; development reps: working the lead +
  hand-off delay + won-deal cycle; customer role: 0), all rounded up. A start before month 1
  means the rep is already on staff at month 0. The requisition opens ``ceil(E[time to
  fill])`` months before the start (a month ≤ 0 means "before month 1": open it now).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.planner.arithmetic import (
    YEAR_MONTHS,
    PlanError,
    arr_growth_new_mrr,
    ceil_clean,
    check_churn,
    check_lag,
    check_number,
    exit_arr_factor,
    lagged_exit_arr_factor,
    lagged_first_year_factor,
    money,
    monthly_new_mrr_for,
    quota_plan,
    retention_sum,
)
from sim.planner.model import SalesModel, source_rates
from sim.planner.staffing import DEFAULT_INITIAL_TENURE_MONTHS
from sim.scenario.jobs import Desk, Job
from sim.scenario.limits import MAX_SEATS_PER_ROLE
from sim.workcalendar import DAYS_PER_MONTH

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

_TOL = 1e-9


# --------------------------------------------------------------------------- target and plan


def _count(x: float) -> str:
    """A head count for a message: digits while they read, else scientific notation."""
    return f"{x:,.0f}" if math.isfinite(x) and x < 1e15 else f"{x:.3g}"


@dataclass(frozen=True)
class PlanTarget:
    """What the plan must deliver: one of a first-year revenue, a monthly new MRR, an exit ARR
    (optionally grown from a starting ARR) or the headcount you already have.

    Attributes
    ----------
    annual_new_revenue_usd : float, optional
        First-year revenue from new business (the book's "78" arithmetic).
    monthly_new_mrr_usd : float, optional
        Constant new MRR to book each month from month 1.
    exit_arr_usd : float, optional
        ARR at the end of month 12. With ``starting_arr_usd`` the new business must make up the
        difference to what is left of the starting ARR after churn
        (:func:`~sim.planner.arithmetic.arr_growth_new_mrr`).
    starting_arr_usd : float
        ARR of today's customers (only with ``exit_arr_usd``; default 0).
    headcount : tuple of (role, count), optional
        Back-solve: the reps you have (e.g. ``(("ae", 10),)``). The plan books the most new MRR
        these reps can handle — the smallest over the roles given (the binding one) — and sizes
        the other roles and the funnel for it.
    monthly_churn : float
        Monthly churn of MRR in [0, 1) (revenue arithmetic and customer accounts).
    invoice_lag_months : int
        Months between signing and the first invoice (0 or 1 in the book).
    cycle_lag_months : float
        Months before the first deals are booked when the pipeline starts empty (0: the book's
        78 rule, full new MRR from month 1). :func:`lag_aware` sets it to the model's mean
        lead-to-win time, so that the revenue factor — and the headcount — is for the revenue
        actually booked in the first year.
    horizon_months : int
        Months the plan covers (customer accounts and the hiring plan).
    mqls_per_month : float, optional
        A fixed MQL volume (marketing's budget): the MQL→SQL rate the target then needs must be ≤ 1.
    """

    annual_new_revenue_usd: float | None = None
    monthly_new_mrr_usd: float | None = None
    monthly_churn: float = 0.0
    invoice_lag_months: int = 0
    horizon_months: int = YEAR_MONTHS
    mqls_per_month: float | None = None
    exit_arr_usd: float | None = None
    starting_arr_usd: float = 0.0
    headcount: tuple[tuple[str, int], ...] | None = None
    cycle_lag_months: float = 0.0

    def __post_init__(self) -> None:
        given = [v is not None for v in (self.annual_new_revenue_usd, self.monthly_new_mrr_usd, self.exit_arr_usd,
                                          self.headcount)]
        if sum(given) != 1:
            raise PlanError("give exactly one target: an annual (first-year) new revenue, a monthly new MRR, "
                            "an exit ARR or the headcount you have")
        for label, value in (("the annual revenue target", self.annual_new_revenue_usd),
                             ("the monthly new MRR target", self.monthly_new_mrr_usd),
                             ("the exit ARR target", self.exit_arr_usd)):
            if value is not None and check_number(label, value) <= 0:
                raise PlanError(f"{label} must be a positive number of dollars (got {value:g})")
        if check_number("the starting ARR", self.starting_arr_usd) < 0:
            raise PlanError(f"the starting ARR cannot be negative (got {self.starting_arr_usd:g})")
        if self.starting_arr_usd and self.exit_arr_usd is None:
            raise PlanError("a starting ARR only goes with an exit ARR target (grow ARR from A to B)")
        if self.headcount is not None:
            if not self.headcount:
                raise PlanError("give at least one role and its headcount, e.g. ae=10")
            for role, count in self.headcount:
                if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 1:
                    raise PlanError(f"the headcount of {role!r} must be a whole number ≥ 1 (got {count!r})")
            if self.mqls_per_month is not None:
                raise PlanError("a fixed MQL volume cannot be combined with a headcount to back-solve from")
        check_churn(self.monthly_churn)
        check_lag(self.invoice_lag_months, YEAR_MONTHS)
        if check_number("the cycle lag", self.cycle_lag_months) < 0:
            raise PlanError(f"the cycle lag cannot be negative (got {self.cycle_lag_months:g} months)")
        h = self.horizon_months
        if isinstance(h, bool) or not isinstance(h, int | np.integer) or not 1 <= h <= 120:
            raise PlanError(f"the plan's horizon must be 1–120 whole months (got {h!r})")
        if self.mqls_per_month is not None and check_number("the MQL volume", self.mqls_per_month) <= 0:
            raise PlanError(f"a fixed MQL volume must be positive (got {self.mqls_per_month:g} a month)")

    @property
    def first_year_factor(self) -> float:
        """First-year revenue per $1 of monthly new MRR: 78 for the book's rule, less with churn,
        an invoice lag and a cycle lag (:func:`~sim.planner.arithmetic.lagged_first_year_factor`)."""
        return lagged_first_year_factor(self.monthly_churn, self.invoice_lag_months, self.cycle_lag_months)

    def monthly_new_mrr(self) -> float:
        """The constant monthly new MRR the target means (a headcount target needs the model:
        :func:`plan` solves it)."""
        if self.monthly_new_mrr_usd is not None:
            return float(self.monthly_new_mrr_usd)
        if self.exit_arr_usd is not None:
            return arr_growth_new_mrr(self.exit_arr_usd, self.starting_arr_usd, self.monthly_churn,
                                      self.cycle_lag_months)
        if self.headcount is not None:
            raise PlanError("a headcount target is solved against a sales model: use plan(target, model)")
        if self.cycle_lag_months:
            return float(self.annual_new_revenue_usd) / self.first_year_factor
        return monthly_new_mrr_for(first_year_revenue_usd=self.annual_new_revenue_usd,
                                   monthly_churn=self.monthly_churn, invoice_lag_months=self.invoice_lag_months)


@dataclass(frozen=True)
class RepPlan:
    """When one planned rep is needed, must start, and has its requisition opened (1-based months;
    a month ≤ 0 is before month 1)."""

    role: str
    number: int
    need_month: int
    start_month: int
    requisition_month: int

    @property
    def on_staff(self) -> bool:
        """Whether the rep must already be on staff at month 0 (start before month 1)."""
        return self.start_month < 1


@dataclass(frozen=True)
class RolePlan:
    """A role's work, capacity and headcount in a plan.

    ``workload`` and ``capacity_per_rep`` share keys: ``mqls``, ``prospects``, ``sqls``
    (closers; with Little's law also ``open_opportunities``), ``accounts``.
    """

    name: str
    jobs: tuple[Job, ...]
    workload: Mapping[str, float]
    capacity_per_rep: Mapping[str, float]
    fte_needed: float
    vacancy_share: float
    ramp_loss_share: float
    recruiting_loss_share: float
    headcount_exact: float
    headcount: int
    monthly_cost_usd: float
    ramp_to_full_months: int
    lead_months: int
    time_to_fill_months: int
    reps: tuple[RepPlan, ...]

    @property
    def productive_share(self) -> float:
        return 1.0 - self.vacancy_share - self.ramp_loss_share - self.recruiting_loss_share

    @property
    def cost_per_month_usd(self) -> float:
        return self.headcount * self.monthly_cost_usd

    @property
    def on_staff(self) -> int:
        return sum(1 for r in self.reps if r.on_staff)


@dataclass(frozen=True)
class Plan:
    """A revenue target worked back to a funnel, a headcount and a dated hiring plan.

    Monthly figures are steady-state volumes of the constant monthly new MRR; ``sqls`` are SQLs
    that reach a closer (hand-off leakage is inside the MQL→SQL and prospect→SQL rates).
    """

    target: PlanTarget
    model: SalesModel
    monthly_new_mrr_usd: float
    first_year_factor: float
    first_year_revenue_usd: float
    year_end_mrr_usd: float
    exit_arr_usd: float
    deals_per_month: float
    deals_by_segment: Mapping[str, float]
    blended_deal_mrr_usd: float
    win_rate: float
    sqls_per_month: float
    sqls_by_segment: Mapping[str, float]
    inbound_sqls_per_month: float
    outbound_sqls_per_month: float
    inbound_sql_share: float
    mqls_per_month: float | None
    mql_to_sql_rate: float | None
    prospects_per_month: float | None
    prospect_to_sql_rate: float | None
    dials_per_month: float | None
    customers_at_horizon: float
    roles: Mapping[str, RolePlan]
    marketing_cost_per_month_usd: float
    warnings: tuple[str, ...] = ()
    pipeline_lag_months: float = 0.0
    """The model's mean time from a lead's arrival to a won deal (working it, the hand-off and
    the meetings; weighted by deals), in months: how late a team that starts with an empty
    pipeline books its first deals."""
    created_sqls_per_month: float = float("nan")
    """SQLs the development reps create a month, before hand-off losses (the simulator's ``sqls``)."""
    headcount_limits: Mapping[str, float] | None = None
    """Back-solve (``target.headcount``): the most monthly new MRR each given role's reps can
    handle; the plan books the smallest."""

    # ------------------------------------------------------------------ summaries

    def quota_headcount(self, quota_usd_per_year: float, over_assignment: float = 1.0) -> dict[str, Any]:
        """The traditional quota plan beside this pipeline plan: the plan's new ARR of a year
        (12 months of ``monthly_new_mrr_usd``, × 12) handed out in yearly quotas of
        ``quota_usd_per_year`` with ``over_assignment`` (:func:`sim.planner.arithmetic.quota_plan`),
        and the closers this plan sizes from the pipeline.

        Returns
        -------
        dict
            ``quota``: the :class:`~sim.planner.arithmetic.QuotaPlan` as a dict (``reps``,
            ``reps_at_full_attainment``, ``total_quota_usd``, ...); ``pipeline_headcount``: role →
            headcount of each closing role; ``new_arr_per_pipeline_rep_usd``: the plan's yearly
            new ARR per closer it sizes (what the pipeline plan implies a ramped closer books).
        """
        new_arr = 144.0 * self.monthly_new_mrr_usd
        closers = {name: r.headcount for name, r in self.roles.items() if Job.CLOSE in r.jobs}
        n = sum(closers.values())
        return {"quota": quota_plan(new_arr, quota_usd_per_year, over_assignment).to_dict(),
                "pipeline_headcount": closers,
                "new_arr_per_pipeline_rep_usd": new_arr / n if n else float("nan")}

    @property
    def handoff_lost_sqls_per_month(self) -> float:
        """SQLs lost in hand-off a month: created − reaching a closer."""
        return self.created_sqls_per_month - self.sqls_per_month

    @property
    def starting_arr_kept_usd(self) -> float:
        """What is left at month 12 of the target's starting ARR after churn (0 without one)."""
        return float(self.target.starting_arr_usd) * (1.0 - self.target.monthly_churn) ** YEAR_MONTHS

    @property
    def binding_role(self) -> str | None:
        """Back-solve: the role whose headcount limits the new MRR (None otherwise)."""
        if not self.headcount_limits:
            return None
        return min(self.headcount_limits, key=lambda r: self.headcount_limits[r])  # type: ignore[index]

    @property
    def booked_first_year_factor(self) -> float:
        """The first-year factor for the revenue a team starting from an empty pipeline books:
        with the model's :attr:`pipeline_lag_months` as the cycle lag (66.3 instead of 78 for a
        1-month lag)."""
        t = self.target
        return lagged_first_year_factor(t.monthly_churn, t.invoice_lag_months,
                                        max(t.cycle_lag_months, self.pipeline_lag_months))

    @property
    def booked_first_year_revenue_usd(self) -> float:
        """First-year revenue this plan's monthly new MRR books when it starts from an empty pipeline."""
        return self.monthly_new_mrr_usd * self.booked_first_year_factor

    def org_changes(self) -> pd.DataFrame:
        """How the plan differs from the scenario's org, role by role.

        Columns: ``role``, ``on_staff`` (the scenario's headcount at month 0; NaN when the
        model does not know it), ``needed`` (the plan's headcount), ``change`` (needed −
        on staff), ``action`` (``hire N`` / ``no hire`` / ``N more than needed`` / ``not
        planned``), ``first_requisition_month`` and ``first_need_month`` of the hires (the
        reps beyond those on staff, in order of need; ≤ 0 is before month 1).
        """
        import pandas as pd

        rows = []
        for name, r in self.roles.items():
            current = self.model.roles[name].current_headcount
            if not r.jobs:
                rows.append({"role": name, "on_staff": current, "needed": None, "change": None,
                             "action": "not planned (no job in the sales model)", "first_requisition_month": None,
                             "first_need_month": None})
                continue
            change = None if current is None else r.headcount - current
            ordered = sorted(r.reps, key=lambda rep: (rep.need_month, rep.start_month, rep.number))
            hires = ordered[current:] if current is not None else []
            if change is None:
                action = f"plan needs {r.headcount}"
            elif change > 0:
                action = f"hire {change}"
            elif change == 0:
                action = "no hire"
            else:
                action = f"no hire ({-change} more than needed)"
            rows.append({"role": name, "on_staff": current, "needed": r.headcount, "change": change,
                         "action": action,
                         "first_requisition_month": min((h.requisition_month for h in hires), default=None),
                         "first_need_month": min((h.need_month for h in hires), default=None)})
        return pd.DataFrame(rows, columns=["role", "on_staff", "needed", "change", "action",
                                           "first_requisition_month", "first_need_month"])

    def per_rep(self) -> pd.DataFrame:
        """Every stage of the chain per rep and month, at the planned headcount (seats: vacancy
        and ramp included).

        Columns: ``role``, ``reps``, ``mqls`` and ``prospects`` (leads worked), ``sqls_created``
        (development reps: SQLs they make, before hand-off losses), ``sqls`` (closers: SQLs
        reaching them, each an opportunity), ``deals``, ``new_mrr_usd``, ``open_opportunities``
        (closers: the mean number open, by Little's law) and ``accounts`` (the customer role:
        accounts at the plan's horizon). NaN where a stage is not the role's.
        """
        import pandas as pd

        nan = float("nan")
        m = self.model
        rows = []
        for name, r in self.roles.items():
            if not r.jobs or r.headcount <= 0:
                continue
            n = float(r.headcount)
            row: dict[str, Any] = {"role": name, "reps": r.headcount, "mqls": nan, "prospects": nan,
                                   "sqls_created": nan, "sqls": nan, "deals": nan, "new_mrr_usd": nan,
                                   "open_opportunities": nan, "accounts": nan}
            created = 0.0
            if Job.WORK_INBOUND in r.jobs and self.mqls_per_month is not None and m.inbound is not None:
                row["mqls"] = self.mqls_per_month / n
                created += self.mqls_per_month * m.inbound.sql_rate
            if Job.PROSPECT in r.jobs and self.prospects_per_month is not None and m.outbound is not None:
                row["prospects"] = self.prospects_per_month / n
                created += self.prospects_per_month * m.outbound.sql_rate
            if Job.WORK_INBOUND in r.jobs or Job.PROSPECT in r.jobs:
                row["sqls_created"] = created / n
            if Job.CLOSE in r.jobs:
                closed = [s for s in m.segments.values() if s.closed_by == name]
                sqls = sum(self.sqls_by_segment.get(s.name, 0.0) for s in closed)
                deals = sum(self.deals_by_segment.get(s.name, 0.0) for s in closed)
                row["sqls"] = sqls / n
                row["deals"] = deals / n
                row["new_mrr_usd"] = sum(self.deals_by_segment.get(s.name, 0.0) * s.mean_deal_mrr_usd
                                         for s in closed) / n
                if "open_opportunities" in r.workload:
                    row["open_opportunities"] = r.workload["open_opportunities"] / n
            if Job.MANAGE_ACCOUNTS in r.jobs:
                row["accounts"] = r.workload.get("accounts", nan) / n
            rows.append(row)
        return pd.DataFrame(rows, columns=["role", "reps", "mqls", "prospects", "sqls_created", "sqls", "deals",
                                           "new_mrr_usd", "open_opportunities", "accounts"])

    @property
    def headcount(self) -> dict[str, int]:
        return {name: r.headcount for name, r in self.roles.items()}

    @property
    def cost_per_month_usd(self) -> float:
        """People cost per month at the full planned headcount."""
        return sum(r.cost_per_month_usd for r in self.roles.values())

    @property
    def hires(self) -> tuple[RepPlan, ...]:
        """Reps not on staff at month 0, by requisition month (then role order)."""
        order = {name: i for i, name in enumerate(self.roles)}
        reps = [rep for r in self.roles.values() for rep in r.reps if not rep.on_staff]
        return tuple(sorted(reps, key=lambda x: (x.requisition_month, x.start_month, order[x.role], x.number)))

    def table(self) -> pd.DataFrame:
        """The plan as one readable table: a row per funnel stage, then a row per role.

        Columns: ``stage``, ``kind`` (funnel / role), ``per_month`` (volume; for a role its
        main workload), ``rate`` (conversion to the next stage), ``headcount_exact``,
        ``headcount``, ``cost_per_month_usd`` and ``note``.
        """
        import pandas as pd

        nan = float("nan")
        rows: list[dict[str, Any]] = []

        def add(stage: str, kind: str, per_month: float | None, rate: float | None = None, note: str = "",
                exact: float | None = None, heads: int | None = None, cost: float | None = None) -> None:
            rows.append({
                "stage": stage, "kind": kind, "per_month": nan if per_month is None else per_month,
                "rate": nan if rate is None else rate, "headcount_exact": nan if exact is None else exact,
                "headcount": heads, "cost_per_month_usd": nan if cost is None else cost, "note": note,
            })

        m = self.model
        if m.outbound is not None:
            add("prospects", "funnel", self.prospects_per_month, self.prospect_to_sql_rate,
                f"outbound, worked by {m.outbound.role}; rate = prospect → SQL")
        if m.inbound is not None:
            fixed = " (fixed volume: rate is what the target needs)" if self.target.mqls_per_month else ""
            add("MQLs", "funnel", self.mqls_per_month, self.mql_to_sql_rate,
                f"inbound, worked by {m.inbound.role}; rate = MQL → SQL{fixed}")
        if self.dials_per_month is not None:
            add("dials", "funnel", self.dials_per_month, None, "dials (touches) of the development reps")
        add("SQLs from inbound", "funnel", self.inbound_sqls_per_month, None,
            f"{self.inbound_sql_share:.0%} of SQLs")
        add("SQLs from outbound", "funnel", self.outbound_sqls_per_month, None,
            f"{1 - self.inbound_sql_share:.0%} of SQLs")
        add("SQLs", "funnel", self.sqls_per_month, self.win_rate, "reaching a closer; rate = win rate")
        if len(self.deals_by_segment) > 1:
            for seg, deals in self.deals_by_segment.items():
                add(f"deals: {seg}", "funnel", deals, None,
                    f"{money(m.segments[seg].mean_deal_mrr_usd)} MRR a deal")
        add("deals", "funnel", self.deals_per_month, None, f"{money(self.blended_deal_mrr_usd)} MRR a deal (blended)")
        add("new MRR (USD)", "funnel", self.monthly_new_mrr_usd, None,
            f"× {self.first_year_factor:.2f} = {money(self.first_year_revenue_usd)} first-year revenue; "
            f"exit ARR {money(self.exit_arr_usd)}")
        for r in self.roles.values():
            add(r.name, "role", _main_workload(r), None, _role_note(r), r.headcount_exact, r.headcount,
                r.cost_per_month_usd)
        return pd.DataFrame(rows, columns=["stage", "kind", "per_month", "rate", "headcount_exact", "headcount",
                                           "cost_per_month_usd", "note"])

    def hiring_table(self) -> pd.DataFrame:
        """One row per planned rep: ``role``, ``rep``, ``need_month``, ``start_month``,
        ``requisition_month``, ``on_staff`` (months are 1-based; ≤ 0 is before month 1)."""
        import pandas as pd

        rows = [{"role": rep.role, "rep": rep.number, "need_month": rep.need_month, "start_month": rep.start_month,
                 "requisition_month": rep.requisition_month, "on_staff": rep.on_staff}
                for r in self.roles.values() for rep in r.reps]
        return pd.DataFrame(rows, columns=["role", "rep", "need_month", "start_month", "requisition_month",
                                           "on_staff"])

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-serialisable data (``salesim plan --json``)."""
        t = self.target
        m = self.model
        return plain({
            "target": {
                "annual_new_revenue_usd": t.annual_new_revenue_usd, "monthly_new_mrr_usd": t.monthly_new_mrr_usd,
                "exit_arr_usd": t.exit_arr_usd, "starting_arr_usd": t.starting_arr_usd,
                "headcount": dict(t.headcount) if t.headcount is not None else None,
                "monthly_churn": t.monthly_churn, "invoice_lag_months": t.invoice_lag_months,
                "cycle_lag_months": t.cycle_lag_months,
                "horizon_months": t.horizon_months, "mqls_per_month": t.mqls_per_month,
            },
            "revenue": {
                "monthly_new_mrr_usd": self.monthly_new_mrr_usd, "first_year_factor": self.first_year_factor,
                "first_year_revenue_usd": self.first_year_revenue_usd, "year_end_mrr_usd": self.year_end_mrr_usd,
                "exit_arr_usd": self.exit_arr_usd, "starting_arr_kept_usd": self.starting_arr_kept_usd,
                "pipeline_lag_months": self.pipeline_lag_months,
                "booked_first_year_factor": self.booked_first_year_factor,
                "booked_first_year_revenue_usd": self.booked_first_year_revenue_usd,
                "headcount_limits": dict(self.headcount_limits) if self.headcount_limits else None,
                "binding_role": self.binding_role,
            },
            "funnel": {
                "deals_per_month": self.deals_per_month, "deals_by_segment": dict(self.deals_by_segment),
                "blended_deal_mrr_usd": self.blended_deal_mrr_usd, "win_rate": self.win_rate,
                "sqls_per_month": self.sqls_per_month, "sqls_by_segment": dict(self.sqls_by_segment),
                "created_sqls_per_month": self.created_sqls_per_month,
                "handoff_lost_sqls_per_month": self.handoff_lost_sqls_per_month,
                "inbound_sqls_per_month": self.inbound_sqls_per_month,
                "outbound_sqls_per_month": self.outbound_sqls_per_month,
                "inbound_sql_share": self.inbound_sql_share,
                "mqls_per_month": self.mqls_per_month, "mql_to_sql_rate": self.mql_to_sql_rate,
                "prospects_per_month": self.prospects_per_month, "prospect_to_sql_rate": self.prospect_to_sql_rate,
                "dials_per_month": self.dials_per_month, "customers_at_horizon": self.customers_at_horizon,
            },
            "roles": {
                name: {
                    "jobs": [job.value for job in r.jobs], "workload": dict(r.workload),
                    "capacity_per_rep": dict(r.capacity_per_rep),
                    "fte_needed": r.fte_needed, "vacancy_share": r.vacancy_share,
                    "ramp_loss_share": r.ramp_loss_share, "recruiting_loss_share": r.recruiting_loss_share,
                    "headcount_exact": r.headcount_exact,
                    "headcount": r.headcount, "on_staff_at_month_0": r.on_staff,
                    "monthly_cost_usd": r.monthly_cost_usd, "cost_per_month_usd": r.cost_per_month_usd,
                    "ramp_to_full_months": r.ramp_to_full_months,
                    "first_year_productivity": m.roles[name].first_year_productivity, "lead_months": r.lead_months,
                    "time_to_fill_months": r.time_to_fill_months,
                    "reps": [{"number": rep.number, "need_month": rep.need_month, "start_month": rep.start_month,
                              "requisition_month": rep.requisition_month, "on_staff": rep.on_staff}
                             for rep in r.reps],
                }
                for name, r in self.roles.items()
            },
            "hiring": [{"role": rep.role, "number": rep.number, "requisition_month": rep.requisition_month,
                        "start_month": rep.start_month, "need_month": rep.need_month} for rep in self.hires],
            "per_rep": self.per_rep().to_dict("records"),
            "org_changes": self.org_changes().to_dict("records"),
            "cost": {"people_per_month_usd": self.cost_per_month_usd,
                     "marketing_per_month_usd": self.marketing_cost_per_month_usd},
            "model": {
                "name": m.name,
                "segments": {s.name: {"mean_deal_mrr_usd": s.mean_deal_mrr_usd, "win_rate": s.win_rate(),
                                      "closed_by": s.closed_by} for s in m.segments.values()},
                "sources": {k: {"role": s.role, "sql_rate": s.sql_rate, "segment_mix": s.mix(),
                                "dials_per_lead": s.dials_per_lead} for k, s in m.sources().items()},
            },
            "warnings": list(self.warnings),
        })

    # ------------------------------------------------------------------ back to a scenario

    def to_scenario_dict(self, base: Mapping[str, Any], include_hiring: bool = True, *,
                         initial_tenure_months: float = DEFAULT_INITIAL_TENURE_MONTHS,
                         constant_inbound: bool = True) -> dict[str, Any]:
        """The base scenario's data with the plan's org.

        Parameters
        ----------
        base : mapping
            Scenario data (e.g. ``yamlio.load_document(path).data`` or ``Scenario.resolved()``).
        include_hiring : bool
            True: reps that must start before month 1 are on staff (``roles.<r>.headcount``) and
            the other hires are ``hiring: {waves: [{month, role, count}]}`` — ``month`` is the
            1-based month the requisition opens (a requisition due before month 1 opens in
            month 1). False: every planned rep is on staff from month 0 (valid with the
            current schema).
        initial_tenure_months : float
            Tenure of the reps on staff (at least their ramp length, so they start fully ramped).
        constant_inbound : bool
            Also set the inbound growth to 0 and drop seasonality and scripted arrivals (the
            plan assumes a constant MQL rate).

        Returns
        -------
        dict
            New scenario data; ``base`` is not modified. Roles without a job in the model keep
            their base headcount. In POD structures each role's count is spread over the PODs in
            proportion to their current seats. The base's ``warm_start`` is dropped: the plan is
            for new business, and an installed base's MRR would count in the first-year revenue
            it is checked against.
        """
        data = copy.deepcopy(dict(base))
        data.pop("warm_start", None)
        roles = data.get("roles")
        if not isinstance(roles, dict):
            raise PlanError("the base scenario has no roles to write the plan into")
        org = data.get("org") if isinstance(data.get("org"), dict) else {}
        structure = org.get("structure", "silo")
        pooled = set(org.get("pooled_roles") or [])
        pods = org.get("pods") if isinstance(org.get("pods"), dict) else {}
        for name, r in self.roles.items():
            if not r.jobs:
                continue
            if name not in roles or not isinstance(roles[name], dict):
                raise PlanError(f"the base scenario has no role {name!r} to staff")
            count = r.on_staff if include_hiring else r.headcount
            roles[name]["headcount"] = count
            ramp_len = len(self.model.roles[name].ramp)  # as a vector: formula ramps included
            roles[name]["initial_tenure_months"] = float(max(initial_tenure_months, ramp_len - 1))
            if structure in ("pod", "hybrid") and name not in pooled and pods:
                _spread_over_pods(pods, name, count)
        inbound = data.get("inbound")
        if isinstance(inbound, dict) and self.mqls_per_month is not None:
            inbound["mqls_per_month"] = round(float(self.mqls_per_month), 3)
            if constant_inbound:
                inbound["growth_per_month"] = 0.0
                inbound.pop("seasonality", None)
                inbound.pop("arrival_times_days", None)
        if include_hiring:
            data = _with_planned_hiring(data, self)
        return data


def _with_planned_hiring(data: dict[str, Any], plan: Plan) -> dict[str, Any]:
    """Replace the base's waves and targets of the planned roles by the plan's waves; keep
    the base's other hiring settings (recruiting load, capacity) and its plans for other roles."""
    planned = {role for role, r in plan.roles.items() if r.jobs}
    base_hiring = data.get("hiring") if isinstance(data.get("hiring"), dict) else {}
    hiring = {k: v for k, v in base_hiring.items() if k not in ("waves", "targets") and v is not None}
    waves = [w for w in base_hiring.get("waves") or [] if not (isinstance(w, dict) and w.get("role") in planned)]
    grouped: dict[tuple[int, str], int] = {}
    for rep in plan.hires:
        key = (max(1, rep.requisition_month), rep.role)
        grouped[key] = grouped.get(key, 0) + 1
    waves += [{"month": month, "role": role, "count": count} for (month, role), count in grouped.items()]
    targets = {role: t for role, t in (base_hiring.get("targets") or {}).items() if role not in planned}
    if waves:
        hiring["waves"] = waves
    if targets:
        hiring["targets"] = targets
    if hiring:
        data["hiring"] = hiring
    else:
        data.pop("hiring", None)
    return data


def _spread_over_pods(pods: dict[str, Any], role: str, total: int) -> None:
    """Set ``role``'s seats in each POD so they sum to ``total`` (largest remainder, by current seats)."""
    names = list(pods)
    weights = []
    for name in names:
        comp = pods[name].get("composition") if isinstance(pods[name], dict) else None
        weights.append(float(comp.get(role, 0)) if isinstance(comp, dict) else 0.0)
    if sum(weights) <= 0:
        weights = [1.0] * len(names)
    norm = sum(weights)
    exact = [total * w / norm for w in weights]
    counts = [math.floor(x) for x in exact]
    order = sorted(range(len(names)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    for name, count in zip(names, counts, strict=True):
        pods[name].setdefault("composition", {})[role] = count


def plain(value: Any) -> Any:
    """Python scalars for JSON (NaN and inf → None)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


_UNITS = {"mqls": "MQLs", "prospects": "prospects", "sqls": "SQLs", "open_opportunities": "open opportunities",
          "accounts": "accounts", "supported_meetings": "meetings held at once",
          "managed_items": "expansion opportunities and renewals held at once",
          "assisted_trials": "trials touched at once"}


def _main_workload(r: RolePlan) -> float | None:
    for key in ("mqls", "prospects", "sqls", "accounts", "supported_meetings", "managed_items", "assisted_trials"):
        if key in r.workload:
            return r.workload[key]
    return None


def _role_note(r: RolePlan) -> str:
    if not r.jobs:
        return "no job in the sales model: not planned"
    parts = []
    for key, work in r.workload.items():
        if key == "open_opportunities":
            continue
        cap = r.capacity_per_rep.get(key, float("nan"))
        parts.append(f"{work:,.1f} {_UNITS[key]} ÷ {cap:,.1f}/rep")
    text = " + ".join(parts) + f" = {r.fte_needed:.2f} ramped reps"
    if r.productive_share < 1.0 - 1e-12:
        text += (f"; ÷ {r.productive_share:.0%} staffed & ramped (vacancy {r.vacancy_share:.0%}, "
                 f"ramp {r.ramp_loss_share:.0%}"
                 + (f", interviewing {r.recruiting_loss_share:.0%}" if r.recruiting_loss_share > 0.0005 else "")
                 + ")")
    return text


# --------------------------------------------------------------------------- the planner


def plan(target: PlanTarget, model: SalesModel) -> Plan:
    """Work a revenue target back through the sales model to a funnel, a headcount and a hiring plan.

    Parameters
    ----------
    target : PlanTarget
    model : SalesModel

    Returns
    -------
    Plan

    Raises
    ------
    PlanError
        When the target cannot be met by the model: a conversion above 100% is needed, a role
        with work has no capacity, no SQL can ever be won, …
    """
    if target.headcount is not None:
        return _back_solve(target, model)
    c = target.monthly_churn
    mrr = target.monthly_new_mrr()
    factor = target.first_year_factor
    first_year_revenue = (float(target.annual_new_revenue_usd) if target.annual_new_revenue_usd is not None
                          else mrr * factor)
    warnings: list[str] = []

    share_in = model.sql_share()
    shares = {"inbound": share_in, "outbound": 1.0 - share_in}
    rates: dict[str, tuple[float, dict[str, float], dict[str, float]]] = {
        kind: source_rates(model, kind) for kind in model.sources()
    }
    # new MRR per SQL reaching a closer, blended over sources and segments
    value_per_sql = 0.0
    for kind, (_, composition, wins) in rates.items():
        per = sum(composition[s] * wins[s] * model.segments[s].mean_deal_mrr_usd for s in composition)
        value_per_sql += shares[kind] * per
    if value_per_sql <= 0:
        raise PlanError("no SQL can become revenue in this sales model: every win rate or deal size is zero "
                        "for the segments the leads come from")
    sqls = mrr / value_per_sql
    sql_by_source = {kind: shares[kind] * sqls for kind in rates}

    leads: dict[str, float] = {}
    conversion: dict[str, float] = {}
    for kind, (rate, _, _) in rates.items():
        needed = sql_by_source[kind]
        fixed = target.mqls_per_month if kind == "inbound" else None
        noun = "MQLs" if kind == "inbound" else "prospects"
        if fixed is not None:
            required = needed / fixed
            if required > 1.0 + _TOL:
                raise PlanError(
                    f"{fixed:,.0f} MQLs a month cannot yield the {needed:,.1f} inbound SQLs the target needs: "
                    f"that is an MQL→SQL rate of {required:.0%}, above 100%. Raise the MQL volume "
                    f"(at the model's {rate:.1%} the target needs {needed / rate:,.0f} MQLs a month)"
                    if rate > 0 else
                    f"{fixed:,.0f} MQLs a month cannot yield the {needed:,.1f} inbound SQLs the target needs: "
                    f"that is an MQL→SQL rate of {required:.0%}, above 100%. Raise the MQL volume, "
                    "lower the target or take more SQLs from outbound"
                )
            if required > rate + _TOL:
                warnings.append(f"with {fixed:,.0f} MQLs a month the target needs an MQL→SQL rate of "
                                f"{required:.1%}; the model converts {rate:.1%}")
            leads[kind], conversion[kind] = float(fixed), required
            continue
        if needed > 0 and rate <= 0:
            raise PlanError(
                f"{kind} {noun} never become SQLs in this model ({noun[:-1]}→SQL rate 0), but the target "
                f"needs {needed:,.1f} {kind} SQLs a month ({shares[kind]:.0%} of SQLs); "
                f"raise the conversion or move the SQL mix to the other source"
            )
        leads[kind], conversion[kind] = (needed / rate if needed > 0 else 0.0), rate

    # SQLs and deals by (source, segment)
    sqls_by_segment: dict[str, float] = dict.fromkeys(model.segments, 0.0)
    deals_by_segment: dict[str, float] = dict.fromkeys(model.segments, 0.0)
    closer_sqls: dict[str, float] = {}
    closer_open: dict[str, float] = {}
    closer_won_days: dict[str, list[float]] = {}
    support_busy: dict[str, float] = {}  # supporting role → meetings held at once (Little's law)
    trials_held: dict[str, float] = {}  # touch-assist role → trials running at once (Little's law)
    source_won_days: dict[str, list[float]] = {kind: [0.0, 0.0] for kind in rates}
    for kind, (_, composition, wins) in rates.items():
        source = model.sources()[kind]
        for seg_name, part in composition.items():
            seg = model.segments[seg_name]
            handoff = source.handoff(seg.closed_by)
            n_sql = sql_by_source[kind] * part
            n_won = n_sql * wins[seg_name]
            sqls_by_segment[seg_name] += n_sql
            deals_by_segment[seg_name] += n_won
            closer_sqls[seg.closed_by] = closer_sqls.get(seg.closed_by, 0.0) + n_sql
            months_open = seg.opportunity_days(handoff.win_odds_multiplier) / DAYS_PER_MONTH
            closer_open[seg.closed_by] = closer_open.get(seg.closed_by, 0.0) + n_sql * months_open
            if seg.trial_assisted_by is not None:
                held = n_sql * seg.mean_gap_days / DAYS_PER_MONTH  # every trial runs its days, touched
                trials_held[seg.trial_assisted_by] = trials_held.get(seg.trial_assisted_by, 0.0) + held
            if seg.support_role is not None:
                held = n_sql * seg.supported_meetings(handoff.win_odds_multiplier) * seg.support_days / DAYS_PER_MONTH
                support_busy[seg.support_role] = support_busy.get(seg.support_role, 0.0) + held
            acc = closer_won_days.setdefault(seg.closed_by, [0.0, 0.0])
            acc[0] += n_won * seg.won_cycle_days()
            acc[1] += n_won
            src = source_won_days[kind]
            src[0] += n_won * (source.work_days + handoff.delay_days + seg.won_cycle_days())
            src[1] += n_won
    deals = sum(deals_by_segment.values())
    customers = {m: deals * retention_sum(m, c) for m in range(1, target.horizon_months + 1)}
    customers_at_horizon = customers[target.horizon_months]
    # account managers: expansion opportunities and renewals held at once by the horizon (Little's law)
    managed_held = sum(
        customers_at_horizon * (deals_by_segment[name] / deals if deals > 0 else 0.0)
        * (seg.expansion_signals_per_month * seg.expansion_days + seg.renewals_per_month * seg.renewal_days)
        / DAYS_PER_MONTH
        for name, seg in model.segments.items())

    # roles
    role_plans: dict[str, RolePlan] = {}
    for name, role in model.roles.items():
        jobs = model.jobs(name)
        workload: dict[str, float] = {}
        capacity: dict[str, float] = {}
        desk_fte: dict[Desk, float] = {}  # reps needed at each desk, as if full-time there
        need = _Need(name, workload, capacity)
        lead_days = 0.0

        if Job.WORK_INBOUND in jobs:
            _add(desk_fte, Desk.DEVELOPMENT, need("mqls", leads["inbound"], role.mqls_per_month,
                                      f"work {leads['inbound']:,.0f} MQLs", "give it dials_per_day (MQLs it can work)"))
            lead_days = max(lead_days, _weighted(source_won_days["inbound"]))
        if Job.PROSPECT in jobs:
            _add(desk_fte, Desk.DEVELOPMENT, need("prospects", leads["outbound"], role.prospects_per_month,
                                      f"work {leads['outbound']:,.0f} prospects",
                                      "give it dials_per_day and outbound.prospects_per_rep_month"))
            lead_days = max(lead_days, _weighted(source_won_days["outbound"]))
        if Job.CLOSE in jobs:
            work = closer_sqls.get(name, 0.0)
            what, fix = f"take on {work:,.1f} SQLs", "give it max_open_opportunities"
            if role.sqls_per_month is not None:
                _add(desk_fte, Desk.CLOSING, need("sqls", work, role.sqls_per_month, what, fix))
            else:
                open_opps = closer_open.get(name, 0.0)
                per_rep_sqls = (role.max_open_opportunities or 0.0) * work / open_opps if open_opps > 0 else math.inf
                workload["sqls"], capacity["sqls"] = work, per_rep_sqls
                reps = need("open_opportunities", open_opps, role.max_open_opportunities, what, fix)
                _add(desk_fte, Desk.CLOSING, reps)
                if work > 0 and open_opps <= 0 and not role.max_open_opportunities:
                    raise PlanError(f"role {name!r} must {what} a month but one rep's capacity for it is zero; {fix}")
            lead_days = max(lead_days, _weighted(closer_won_days.get(name, [0.0, 0.0])))
        if Job.MANAGE_ACCOUNTS in jobs:
            _add(desk_fte, Desk.ACCOUNTS, need("accounts", customers_at_horizon, role.accounts_covered,
                                   f"cover {customers_at_horizon:,.0f} customer accounts", "give it accounts_covered"))
        if Job.ASSIST_TRIALS in jobs:
            held = trials_held.get(name, 0.0)
            _add(desk_fte, Desk.SELF_SERVICE, need("assisted_trials", held, role.trials_assisted,
                                                   f"touch {held:,.1f} self-service trials at once",
                                                   "give it trials_assisted"))
        if Job.EXPAND_AND_RENEW in jobs:
            _add(desk_fte, Desk.ACCOUNT_MANAGEMENT, need(
                "managed_items", managed_held, role.open_expansions,
                f"work {managed_held:,.1f} expansion opportunities and renewals at once",
                "give it open_expansions"))
        if Job.SUPPORT_MEETINGS in jobs:
            held = support_busy.get(name, 0.0)
            _add(desk_fte, Desk.SUPPORT, need("supported_meetings", held, role.meetings_supported,
                                              f"support {held:,.1f} meetings at once", "give it meetings_supported"))
        fte = _shared_fte(desk_fte, role.desk_shares)
        productive = role.productive_share
        if fte > 0 and productive <= 0:
            raise PlanError(f"role {name!r} has work but a seat is never staffed and productive "
                            f"(vacancy {role.vacancy_share:.0%}, ramp loss {role.ramp_loss_share:.0%}); "
                            "check its tenure, time to fill, backfill and ramp")
        exact = fte / productive if fte > 0 else 0.0
        if not exact <= MAX_SEATS_PER_ROLE:  # also NaN and infinity
            raise PlanError(
                f"the target needs {_count(exact)} {name} reps; a scenario holds at most {MAX_SEATS_PER_ROLE:,} "
                f"of a role (sim/scenario/limits.py). Lower the target, or check the model's capacities and "
                f"conversions (one {name} rep's capacity here is tiny next to the work)")
        heads = ceil_clean(exact) if exact > 0 else 0
        lead = ceil_clean(lead_days / DAYS_PER_MONTH) if lead_days > 0 else 0
        fill = ceil_clean(role.time_to_fill_months) if role.time_to_fill_months > 0 else 0
        ramp_full = role.ramp_to_full_months
        reps = []
        for k in range(1, heads + 1):
            need_month = 1
            if jobs == (Job.MANAGE_ACCOUNTS,):
                seat = (role.accounts_covered or 0.0) * productive
                need_month = next((mo for mo in range(1, target.horizon_months + 1)
                                   if customers[mo] / seat > k - 1 + _TOL), target.horizon_months)
            start = need_month - ramp_full - lead
            reps.append(RepPlan(name, k, need_month, start, start - fill))
        role_plans[name] = RolePlan(
            name=name, jobs=jobs, workload=workload, capacity_per_rep=capacity, fte_needed=fte,
            vacancy_share=role.vacancy_share, ramp_loss_share=role.ramp_loss_share,
            recruiting_loss_share=role.recruiting_loss_share, headcount_exact=exact,
            headcount=heads, monthly_cost_usd=role.monthly_cost_usd, ramp_to_full_months=ramp_full,
            lead_months=lead, time_to_fill_months=fill, reps=tuple(reps),
        )

    dials = None
    parts = [(leads[k], model.sources()[k].dials_per_lead) for k in leads]
    if parts and all(d is not None for _, d in parts):
        dials = sum(n * d for n, d in parts)
    mqls = leads.get("inbound")
    exit_arr = mrr * (lagged_exit_arr_factor(c, target.cycle_lag_months) if target.cycle_lag_months
                      else exit_arr_factor(c))
    won = [sum(acc[i] for acc in source_won_days.values()) for i in (0, 1)]
    created = sum(sql_by_source[k] / (1.0 - _leakage(model, k)) for k in leads if _leakage(model, k) < 1)
    return Plan(
        target=target, model=model, monthly_new_mrr_usd=mrr, first_year_factor=factor,
        first_year_revenue_usd=first_year_revenue, year_end_mrr_usd=exit_arr / 12.0,
        exit_arr_usd=exit_arr, deals_per_month=deals, deals_by_segment=deals_by_segment,
        blended_deal_mrr_usd=mrr / deals if deals > 0 else float("nan"),
        win_rate=deals / sqls if sqls > 0 else float("nan"), sqls_per_month=sqls, sqls_by_segment=sqls_by_segment,
        inbound_sqls_per_month=sql_by_source.get("inbound", 0.0),
        outbound_sqls_per_month=sql_by_source.get("outbound", 0.0), inbound_sql_share=share_in,
        mqls_per_month=mqls, mql_to_sql_rate=conversion.get("inbound"),
        prospects_per_month=leads.get("outbound"), prospect_to_sql_rate=conversion.get("outbound"),
        dials_per_month=dials, customers_at_horizon=customers_at_horizon, roles=role_plans,
        marketing_cost_per_month_usd=(mqls or 0.0) * model.cost_per_mql_usd, warnings=tuple(warnings),
        pipeline_lag_months=(won[0] / won[1] / DAYS_PER_MONTH) if won[1] > 0 else 0.0,
        created_sqls_per_month=created,
    )


def _leakage(model: SalesModel, kind: str) -> float:
    """Share of a source's SQLs lost in hand-off (weighted by the segment mix of its SQLs)."""
    source = model.sources()[kind]
    mix = source.mix()
    return sum(w * source.handoff(model.segments[s].closed_by).leakage_probability for s, w in mix.items())


_PROBE_MRR = 1000.0


def _back_solve(target: PlanTarget, model: SalesModel) -> Plan:
    """The plan for the most monthly new MRR the given reps can handle (``target.headcount``).

    Every role's exact headcount is proportional to the monthly new MRR (each workload is: the
    funnel, open opportunities and accounts all scale with it), so the new MRR one role's
    ``n`` reps can handle is ``n / exact headcount per dollar``; the plan books the smallest of
    those over the roles given, and sizes everything else for it.
    """
    from dataclasses import replace

    probe = plan(replace(target, headcount=None, monthly_new_mrr_usd=_PROBE_MRR), model)
    limits: dict[str, float] = {}
    for role, count in target.headcount or ():
        if role not in probe.roles:
            raise PlanError(f"the sales model has no role {role!r} (roles: {', '.join(probe.roles)})")
        exact = probe.roles[role].headcount_exact
        if exact <= 0:
            raise PlanError(f"role {role!r} has no work in the sales model, so its headcount says nothing about "
                            f"revenue; back-solve from a role with work "
                            f"({', '.join(n for n, r in probe.roles.items() if r.headcount_exact > 0)})")
        limits[role] = _PROBE_MRR * int(count) / exact
    mrr = min(limits.values())
    solved = plan(replace(target, headcount=None, monthly_new_mrr_usd=mrr), model)
    return replace(solved, target=target, headcount_limits=limits)


def lag_aware(p: Plan) -> Plan:
    """The plan re-sized for the revenue actually booked from an empty pipeline.

    The book's 78 rule counts the full new MRR from month 1; a team that starts with an empty
    pipeline books its first deals :attr:`Plan.pipeline_lag_months` later. The lag-aware plan
    uses that lag as the target's ``cycle_lag_months``: the monthly new MRR is the largest that
    each of the plan's criteria needs — first-year revenue ÷ the lagged first-year factor; for an
    exit ARR target, the new-business exit ARR ÷ the lagged exit factor; for a monthly new MRR
    target, its average over months 1–12 (× 12 / (12 − L)) — and the funnel and headcount follow.
    A back-solved plan (headcount given) is returned as it is: its booked revenue is
    :attr:`Plan.booked_first_year_revenue_usd`.
    """
    from dataclasses import replace

    t = p.target
    lag = p.pipeline_lag_months
    if t.headcount is not None or lag <= 0:
        return p
    if t.annual_new_revenue_usd is not None:
        return plan(replace(t, cycle_lag_months=lag), p.model)
    c = t.monthly_churn
    factor = lagged_first_year_factor(c, t.invoice_lag_months, lag)
    needs = [p.first_year_revenue_usd / factor if factor > 0 else math.inf]
    if t.exit_arr_usd is not None:
        needs.append(arr_growth_new_mrr(t.exit_arr_usd, t.starting_arr_usd, c, lag))
    if t.monthly_new_mrr_usd is not None:
        needs.append(t.monthly_new_mrr_usd * YEAR_MONTHS / max(YEAR_MONTHS - lag, 1e-9))
    mrr = max(needs)
    if not math.isfinite(mrr):
        raise PlanError(f"a pipeline lag of {lag:.1f} months leaves no first-year revenue")
    return plan(PlanTarget(monthly_new_mrr_usd=mrr, monthly_churn=c, invoice_lag_months=t.invoice_lag_months,
                           horizon_months=t.horizon_months, mqls_per_month=t.mqls_per_month,
                           cycle_lag_months=lag), p.model)


def _add(desk_fte: dict[Desk, float], desk: Desk, reps: float) -> None:
    desk_fte[desk] = desk_fte.get(desk, 0.0) + reps


def _shared_fte(desk_fte: dict[Desk, float], desk_shares: Mapping[str, float] | None) -> float:
    """Reps a role needs from the reps each desk needs full-time: with one desk, those; with a time
    split (a full-cycle rep), enough that every desk gets its reps from its share of their time."""
    if not desk_fte:
        return 0.0
    if desk_shares is None or (len(desk_fte) == 1 and len(desk_shares) <= 1):
        return sum(desk_fte.values())
    need = 0.0
    for desk, reps in desk_fte.items():
        share = desk_shares.get(desk.value, 0.0)
        if reps > 0 and share <= 0:
            raise PlanError(f"a desk with work ({desk.value}) gets no share of the role's time (time_split)")
        need = max(need, reps / share if reps > 0 else 0.0)
    return need


class _Need:
    """Records a role's workload and capacity per unit and returns the ramped reps it needs."""

    def __init__(self, role: str, workload: dict[str, float], capacity: dict[str, float]) -> None:
        self.role, self.workload, self.capacity = role, workload, capacity

    def __call__(self, key: str, work: float, per_rep: float | None, what: str, fix: str) -> float:
        self.workload[key] = work
        self.capacity[key] = per_rep if per_rep is not None else 0.0
        if work <= 0:
            return 0.0
        if per_rep is None or per_rep <= 0:
            raise PlanError(f"role {self.role!r} must {what} a month but one rep's capacity for it is zero; {fix}")
        return work / per_rep


def _weighted(acc: list[float]) -> float:
    """Mean of an accumulator ``[Σ weight × value, Σ weight]`` (0 when empty)."""
    return acc[0] / acc[1] if acc[1] > 0 else 0.0
