"""The scenario schema: the validated, frozen description of one org, market and plan.

This module owns the pydantic v2 models of a scenario file (frozen, unknown keys rejected) and
the questions a scenario answers about itself (:meth:`Scenario.jobs_of`). Checks that span fields
live in :mod:`sim.scenario.references`; reading YAML and reporting problems with ``file:line`` in
:mod:`sim.scenario.loading`.

The scenario is inert data (spec → runtime → records): the SimPy world is built from it by
:mod:`sim.model.world`. Org units (``roles``) and ``segments`` are maps keyed by name so that
a variant scenario is a small diff (``extends: silo.yaml`` plus a few changed fields).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from sim.scenario import limits as lim
from sim.scenario.dists import Constant, Dist, Geometric, Lognormal, dist_within
from sim.scenario.jobs import NO_ROLE, Desk, Job, desk_shares, jobs_by_role
from sim.scenario.numbers import Float, Int, number, whole

if TYPE_CHECKING:  # what mypy (and so the compiled build, which reads these types) sees
    Probability = float
    NonNegative = float
    Money = float
    Weight = float
    Capacity = float
    TenureMonths = float
    Multiplier = float
    DayTime = float
    PointHours = float
    PointMultiplier = float
    RampValue = float
    Seats = int
    Attempts = int
    Month = int
    HiresPerMonth = int
    Days = Dist
    Dials = Dist
    TenureDist = Dist
    FractionDist = Dist
    MoneyDist = Dist
    MinutesDist = Dist
else:  # what pydantic validates: the same types with their ranges (sim/scenario/limits.py)
    Probability = number(ge=0.0, le=1.0)
    NonNegative = number(ge=0.0)
    Money = number(ge=0.0, le=lim.MAX_MONEY_USD)
    Weight = number(ge=0.0, le=lim.MAX_DRAW)
    Capacity = number(ge=0, le=lim.MAX_CAPACITY)
    TenureMonths = number(ge=0, le=lim.MAX_TENURE_MONTHS)
    Multiplier = number(ge=0, le=lim.MAX_MULTIPLIER)
    DayTime = number(ge=0, le=lim.MAX_DAYS)
    PointHours = number(gt=0, le=lim.MAX_DAYS * 24)
    PointMultiplier = number(gt=0, le=lim.MAX_MULTIPLIER)
    RampValue = number(ge=0.0, le=1.5)
    Seats = whole(ge=0, le=lim.MAX_SEATS_PER_ROLE)
    Attempts = whole(ge=1, le=lim.MAX_ATTEMPTS)
    Month = whole(ge=1, le=lim.MAX_HORIZON_MONTHS)
    HiresPerMonth = whole(ge=1, le=lim.MAX_TOTAL_SEATS)
    Days = dist_within(0.0, lim.MAX_DRAW, "days", "a duration cannot be negative")
    Dials = dist_within(1.0, lim.MAX_DIALS, "dials", "a lead needs at least 1 dial to connect")
    TenureDist = dist_within(0.0, lim.MAX_DRAW, "months", "a tenure cannot be negative")
    FractionDist = dist_within(0.0, lim.MAX_EXPANSION_FRACTION, "", "an expansion cannot be negative")
    MoneyDist = dist_within(0.0, lim.MAX_MONEY_USD, "USD", "an MRR cannot be negative")
    MinutesDist = dist_within(0.0, lim.MAX_DRAW, "minutes", "a duration cannot be negative")
from sim.workcalendar import add_months, month_start_days

NEW_HIRE_TENURE_MONTHS = 0.0
"""Tenure of a starting rep beyond a role's list of ``initial_tenure_months``: a new hire who starts
today and ramps from zero (``--set roles.ae.headcount=8`` on a file that lists six tenures)."""
MAX_MEETINGS = 8
"""Most meetings an opportunity may have (latent draws are made for this many)."""
MAX_ATTEMPTS = lim.MAX_ATTEMPTS
"""The most dial attempts a cadence may allow (the compiled build keeps dial counts in 32 bits)."""


class Spec(BaseModel):
    """Base of every scenario model: frozen, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


# --------------------------------------------------------------------------- calendar


class CalendarSpec(Spec):
    """Working hours, public holidays and absence. Day 0 of a simulation is the scenario's
    ``start_date`` (without one: a Monday); reps work ``days_per_week`` days from Monday
    (5: Monday–Friday). See :mod:`sim.scenario.dates`."""

    start_hour: Float = Field(9.0, ge=0, le=23)
    hours_per_day: Float = Field(8.0, gt=0, le=24)
    days_per_week: Int = Field(5, ge=1, le=7)
    holidays: list[dt.date] = Field(
        default_factory=list,
        description="public holidays (YYYY-MM-DD): closed days on which nobody works; needs start_date",
    )
    holiday_country: str | None = Field(
        None,
        description="a country's public holidays as closed days, by ISO code (US, GB, DE, ...), from the "
                    "holidays package (pip install holidays); needs start_date",
    )
    pto_days_per_year: Float = Field(
        0.0, ge=0, le=100,
        description="paid time off per rep, working days a year: taken as a capacity reduction (each employee "
                    "works 1 − absent days ÷ working days of the time)",
    )
    sick_days_per_year: Float = Field(
        0.0, ge=0, le=100, description="sick days per rep, working days a year: a capacity reduction, as PTO",
    )

    @field_validator("holiday_country")
    @classmethod
    def _known_country(cls, country: str | None) -> str | None:
        from sim.scenario.dates import holiday_country_problem

        problem = holiday_country_problem(country) if country is not None else None
        if problem is not None:
            raise ValueError(problem)
        return country

    @model_validator(mode="after")
    def _fits_in_a_day(self) -> CalendarSpec:
        if self.start_hour + self.hours_per_day > 24:
            raise ValueError("start_hour + hours_per_day must not exceed 24")
        return self


# --------------------------------------------------------------------------- roles


RampList = Annotated[list[RampValue], Field(min_length=1, max_length=lim.MAX_TENURE_MONTHS)]


class RampFormSpec(Spec):
    """A ramp curve by formula instead of a list.

    ``linear``: from ``start`` in the first month up to 1.0 in month ``months``.
    ``step``: ``before`` for ``months`` months, then 1.0.
    """

    form: Literal["linear", "step"]
    months: Int = Field(ge=1, le=36, description="months until full productivity")
    start: RampValue = Field(0.0, description="linear: productivity in the first month")
    before: RampValue = Field(0.0, description="step: productivity before the step")

    def vector(self) -> list[float]:
        if self.form == "step":
            return [self.before] * self.months + [1.0]
        if self.months == 1:
            return [1.0]
        return [self.start + (1.0 - self.start) * k / (self.months - 1) for k in range(self.months)]


class PromotionSpec(Spec):
    """An entry-level ladder step: when a seat of ``to`` opens (a leaver, a wave, a target, a
    promotion further up), a rep of this role with at least ``after_months`` in it takes the seat
    instead of an outside hire — the longest in role, of the seat's team first — starting the new
    role's ramp ``ramp_credit_months`` in, and a requisition opens behind them. A promotion never
    adds a seat. The default minimum of about 3 months is the book's
    (docs/background/default-figures.md#hiring-and-management)."""

    to: str
    after_months: Float = Field(3.0, ge=lim.MIN_MEDIAN_TENURE_MONTHS, le=lim.MAX_TENURE_MONTHS,
                                description="least months in this role before a promotion (book: ~3)")
    ramp_credit_months: Int = Field(
        1, ge=0, le=lim.MAX_TENURE_MONTHS,
        description="months of the new role's ramp a promoted rep skips (knows the product and customers)",
    )


class SkillSpec(Spec):
    """Reps differ: each rep's skill multiplier, lognormal, drawn for its seat when it starts —
    from a stream keyed by (role, seat, generation), so that common random numbers pair the same
    people across scenarios. On ``conversion`` it multiplies the odds of the rep's conversions (a
    development rep's leads reached, qualified and turned into SQLs, a closer's meetings passed);
    on ``capacity``, its productivity (dials, open opportunities or accounts it can hold). Interns
    and outsourced reps keep their own multipliers. With ``sigma: 0`` every rep is the median."""

    applies_to: Literal["conversion", "capacity"] = Field(
        "conversion", description="what skill multiplies: the odds of a rep's conversions, or its capacity"
    )
    median: Float = Field(1.0, gt=0, le=lim.MAX_SKILL_MEDIAN, description="the typical rep's multiplier")
    sigma: Float = Field(0.0, ge=0, le=lim.MAX_SKILL_SIGMA,
                         description="spread of the multiplier's logarithm (0: identical reps)")


QuotaMetric = Literal["new_arr_usd", "wins", "opportunities", "sqls"]


class QuotaAttritionSpec(Spec):
    """Attrition that follows attainment: a rep below quota for several full periods in a row is
    more likely to leave (docs/reference/kpis.md#quota).

    At each period's end, an employee on staff for the whole period whose attainment is below
    ``below`` extends its streak of periods below (else the streak ends). When the streak reaches
    ``periods_below``, the rest of its tenure is divided by ``hazard_multiplier`` — the attrition
    hazard multiplied, exact for a constant hazard — once per streak."""

    periods_below: Int = Field(2, ge=1, le=lim.MAX_HORIZON_MONTHS,
                               description="full periods in a row below the threshold before the hazard rises")
    below: Float = Field(1.0, gt=0, le=10, description="the attainment threshold (1.0: below quota)")
    hazard_multiplier: Float = Field(2.0, ge=1, le=lim.MAX_MULTIPLIER,
                                     description="multiplies the attrition hazard of a rep on such a streak "
                                                 "(ASSUMPTION)")


class QuotaSpec(Spec):
    """A quota per rep and period, the rep's attainment of it, and pay that follows attainment.

    Each employee of the role carries ``amount`` of ``metric`` per ``period_months`` (prorated by
    the days it was employed in the period): ``new_arr_usd`` (12 × the MRR of the deals it won),
    ``wins`` and ``opportunities`` (of a closer), ``sqls`` (of a development rep). Attainment is
    what it booked ÷ its quota. The role's ``monthly_cost_usd`` is the cost of a rep at 100 %
    attainment (base and target variable pay, loaded); ``variable_share`` of it is paid in
    proportion to attainment, and above quota at ``accelerator`` × that rate
    (docs/reference/kpis.md#quota)."""

    metric: QuotaMetric = Field(description="what the quota counts: new_arr_usd, wins, opportunities or sqls")
    amount: Float = Field(gt=0, le=lim.MAX_MONEY_USD, description="quota of one rep per period (> 0)")
    period_months: Int = Field(3, ge=1, le=12, description="months per quota period, from the start of the run")
    variable_share: Probability = Field(
        0.0, description="share of the on-target cost paid by attainment (0: a fixed cost, as without a quota)"
    )
    accelerator: Float = Field(1.0, ge=0, le=10, description="pay rate above quota, × the rate below it")
    attrition: QuotaAttritionSpec | None = Field(
        None, description="attrition that rises after periods below quota (metrics new_arr_usd, wins, sqls)")

    @model_validator(mode="after")
    def _attrition_metric(self) -> QuotaSpec:
        if self.attrition is not None and self.metric == "opportunities":
            raise ValueError("attrition by attainment follows new_arr_usd, wins or sqls quotas (opportunities are "
                             "counted after the run only)")
        return self


class ManagerSpec(Spec):
    """Coaching capacity: when more reps are ramping than the managers can coach, ramps slow. The
    default span of 8 reps per manager is Bridge Group's and TOPO's
    (docs/background/default-figures.md#hiring-and-management). With ``time_to_fill_days`` managers are
    hired: the managers actually seated coach and cost (docs/guides/workforce.md#coaching)."""

    span: Int = Field(8, ge=1, le=lim.MAX_SEATS_PER_ROLE, description="reps per manager (Bridge Group: ~8)")
    coached_per_manager: Float = Field(2.0, gt=0, le=lim.MAX_SEATS_PER_ROLE,
                                       description="ramping reps one manager can coach at full speed")
    ramp_slowdown: Float = Field(0.5, gt=0, le=1, description="ramp speed when coaching is overloaded (0.5: half)")
    monthly_cost_usd: Money = Field(
        0.0, description="loaded cost of one manager a month: each team of the role pays for the managers "
                         "seated at the month's end (⌈headcount ÷ span⌉ with time_to_fill_days 0), in the "
                         "role's cost")
    time_to_fill_days: DayTime = Field(
        0.0, description="days from a manager requisition to the manager's start. 0: a team always has "
                         "⌈headcount ÷ span⌉ managers. Above 0: a team starts with ⌈initial headcount ÷ span⌉; "
                         "when its headcount needs more than are seated or being hired, a requisition opens and "
                         "the manager is seated this many days later; when headcount falls, managers beyond "
                         "the need leave at once (ASSUMPTION). Managers' own attrition is not modelled")


class InternSpec(Spec):
    """Fixed-term interns in a role: cheaper, lower yield, longer ramp."""

    count: Int = Field(ge=0, le=lim.MAX_SEATS_PER_ROLE)
    start_month: Int = Field(1, ge=1, le=lim.MAX_HORIZON_MONTHS,
                             description="month they start (1 = at the start; within the horizon)")
    term_months: Float = Field(6.0, gt=0, le=lim.MAX_TENURE_MONTHS)
    monthly_cost_usd: Money = 0.0
    yield_multiplier: Float = Field(0.7, gt=0, le=2,
                                    description="multiplies the odds of converting their leads or deals")
    ramp: list[RampValue] = Field(default_factory=lambda: [0.1, 0.3, 0.5, 0.7, 0.85, 1.0], min_length=1,
                                  max_length=lim.MAX_TENURE_MONTHS)


class OutsourcedSpec(Spec):
    """Outsourced development capacity (e.g. an SDR agency): starts at once, no ramp, no
    attrition, priced per rep-month and/or per SQL, converts worse."""

    reps: Int = Field(ge=0, le=lim.MAX_SEATS_PER_ROLE)
    start_month: Int = Field(1, ge=1, le=lim.MAX_HORIZON_MONTHS, description="first month (within the horizon)")
    end_month: Month | None = Field(None, description="last month (null: to the horizon)")
    price_per_month_usd: Money = 0.0
    price_per_sql_usd: Money = 0.0
    conversion_multiplier: Float = Field(0.7, gt=0, le=2,
                                         description="multiplies the odds that a reached lead becomes an SQL")

    @model_validator(mode="after")
    def _ends_after_start(self) -> OutsourcedSpec:
        if self.end_month is not None and self.end_month < self.start_month:
            raise ValueError("end_month must not be before start_month")
        return self


class RoleSpec(Spec):
    """One role of the org (MDR, SDR, AE, FAE, CSM, a full-cycle rep, ...) and its headcount.

    A role does the jobs the flows give it (:mod:`sim.scenario.jobs`): working inbound leads
    (``inbound.worked_by``) and prospecting (``outbound.worked_by``) need ``dials_per_day``;
    closing (``segments.*.closed_by``) needs ``max_open_opportunities``; managing accounts
    (``customers.managed_by``) needs ``accounts_covered``. A role with jobs at several desks
    splits its reps' time by ``time_split``.
    """

    headcount: Int = Field(ge=0, le=lim.MAX_SEATS_PER_ROLE, description="reps at the start of the simulation")
    initial_tenure_months: Float | list[TenureMonths] = Field(
        12.0,
        description="tenure of the starting reps: one number for all, or a list, one per rep; reps beyond "
                    "the list start as new hires today (tenure 0, ramping from zero)",
    )
    monthly_cost_usd: Money = Field(0.0, description="fully loaded cost per rep-month")
    tools_usd_per_month: Money = Field(
        0.0, description="tools per rep and month beyond the loaded cost: dialer, data and seat licences (prorated "
                         "by the days a rep is on staff, interns and outsourced reps included)")
    recruiting_cost_usd: Money = Field(
        0.0, description="one-off cost of each hire (agency fee, interviewing time), in the month the rep starts")
    ramp: RampList | RampFormSpec = Field(
        default_factory=lambda: [1.0],
        description="productivity by tenure month (first entry: first month; the last value holds after), "
                    "or {form: linear|step, months: N, ...}",
    )
    ramp_applies_to_conversion: StrictBool = Field(
        False, description="a ramping rep also converts worse: odds × productivity"
    )
    tenure_months: TenureDist | None = Field(
        None, description="total tenure of a rep from hire (attrition); null: nobody leaves"
    )
    backfill: StrictBool = Field(True, description="open a requisition when a rep leaves")
    time_to_fill_days: Days = Field(
        default_factory=lambda: Constant(value=60.0),
        description="days from an opened requisition to the new rep's start",
    )
    dials_per_day: Capacity | None = Field(
        None, description="dials (touches) per fully ramped working day — development roles"
    )
    max_open_opportunities: Capacity | None = Field(
        None, description="concurrent open opportunities of a fully ramped closer"
    )
    accounts_covered: Capacity | None = Field(
        None, description="customer accounts one fully ramped CSM covers"
    )
    trials_assisted: Capacity | None = Field(
        None, description="self-service trials one fully ramped rep touches at once (segments.*.trial.assisted_by)"
    )
    open_expansions: Capacity | None = Field(
        None, description="expansion opportunities and renewals one fully ramped account manager works at once "
                          "(customers.expanded_by)"
    )
    meetings_supported: Capacity | None = Field(
        None, description="opportunity meetings one fully ramped supporting rep (a sales engineer) works at once "
                          "(segments.*.opportunity.support.role)"
    )
    time_split: dict[Job, Probability] | None = Field(
        None,
        description="a role with jobs at several desks (e.g. prospect and close): share of each rep's time "
                    "per job, summing to 1 (default: equal shares per desk; work_inbound and prospect share "
                    "one desk)",
    )
    promotion: PromotionSpec | None = Field(None, description="entry-level ladder: move up after some months")
    manager: ManagerSpec | None = Field(None, description="coaching capacity that slows ramps when overloaded")
    quota: QuotaSpec | None = Field(None, description="a quota per rep and period: attainment, and variable pay")
    skill: SkillSpec | None = Field(None, description="reps differ: a lognormal skill multiplier per rep, drawn "
                                                      "for its seat (null: identical reps)")
    interns: InternSpec | None = None
    outsourced: OutsourcedSpec | None = None

    @model_validator(mode="after")
    def _tenures_match_headcount(self) -> RoleSpec:
        if isinstance(self.initial_tenure_months, list) and len(self.initial_tenure_months) > self.headcount:
            extra = len(self.initial_tenure_months) - self.headcount
            raise ValueError(
                f"initial_tenure_months lists {len(self.initial_tenure_months)} tenures but headcount is "
                f"{self.headcount}: remove {extra} tenure(s) or raise the headcount (a shorter list is fine: "
                f"the reps beyond it start as new hires)"
            )
        if isinstance(self.initial_tenure_months, float | int) and not \
                0 <= self.initial_tenure_months <= lim.MAX_TENURE_MONTHS:
            raise ValueError(f"initial_tenure_months must be between 0 and {lim.MAX_TENURE_MONTHS} months")
        short = lim.MIN_MEDIAN_TENURE_MONTHS
        if self.tenure_months is not None and \
                float(np.asarray(self.tenure_months.cdf(np.asarray([short - 1e-9])))[0]) >= 0.5:
            raise ValueError(f"tenure_months: half of the reps would leave within {short:g} months (a week) of "
                             "starting, and their seats refill over and over; use null for nobody leaves")
        return self

    def tenures(self) -> list[float]:
        """Tenure in months of each starting rep: the listed ones, then :data:`NEW_HIRE_TENURE_MONTHS`
        for the reps beyond the list (adding reps to a role means hiring them: they ramp from zero)."""
        if isinstance(self.initial_tenure_months, list):
            listed = [float(x) for x in self.initial_tenure_months]
            return listed + [NEW_HIRE_TENURE_MONTHS] * (self.headcount - len(listed))
        return [float(self.initial_tenure_months)] * self.headcount

    def ramp_vector(self) -> list[float]:
        """Productivity by tenure month (index 0: the first month)."""
        if isinstance(self.ramp, RampFormSpec):
            return self.ramp.vector()
        return list(self.ramp) if self.ramp else [1.0]

    def productivity(self, tenure_months: float) -> float:
        """Ramp factor at a tenure (months since hire)."""
        ramp = self.ramp_vector()
        k = int(tenure_months) if tenure_months > 0 else 0
        return ramp[k] if k < len(ramp) else ramp[-1]


# --------------------------------------------------------------------------- segments


class SupportSpec(Spec):
    """Meetings that need a supporting rep (a sales engineer, a solutions consultant).

    The role is a pool shared by every closer (all teams). A meeting that needs it waits, first
    come first served, for a rep of the role with room (at most ``meetings_supported`` × ramp
    meetings at once), and holds that rep for ``days`` from the meeting's start (preparation, the
    meeting, follow-up); a wait pushes the deal's later meetings back by as much. The meeting's
    outcome is the deal's own latent draw: a wait delays it, never changes it."""

    role: str = Field(description="the supporting role (job support_meetings), e.g. se")
    meetings: list[Annotated[int, Field(ge=1, le=MAX_MEETINGS)]] | None = Field(
        None, description="which meetings need a supporting rep (1 = the first); null: all of them")
    days: Days = Field(default_factory=lambda: Constant(value=1.0),
                       description="calendar days a supporting rep is held per meeting, from its start")


class OpportunitySpec(Spec):
    """The meeting chain of an opportunity: it is won when every meeting passes."""

    meetings: Int = Field(3, ge=1, le=MAX_MEETINGS)
    pass_probability: Probability | list[Probability] = Field(
        0.7, description="probability each meeting passes: one value for all, or one per meeting"
    )
    gap_days: Days = Field(
        default_factory=lambda: Lognormal(dist="lognormal", median=14.0, sigma=0.5),
        description="days before each meeting (the first counts from the AE's acceptance)",
    )
    support: SupportSpec | None = Field(None, description="meetings that need a supporting rep (sales engineer)")

    @model_validator(mode="after")
    def _lengths(self) -> OpportunitySpec:
        if isinstance(self.pass_probability, list) and len(self.pass_probability) != self.meetings:
            raise ValueError(
                f"pass_probability lists {len(self.pass_probability)} values for {self.meetings} meetings"
            )
        if self.support is not None and self.support.meetings is not None:
            beyond = [m for m in self.support.meetings if m > self.meetings]
            if beyond:
                raise ValueError(f"support.meetings names meeting(s) {beyond} of a {self.meetings}-meeting chain")
        return self

    def supported_meetings(self) -> list[bool]:
        """Per meeting: whether it needs a supporting rep (``support``)."""
        if self.support is None:
            return [False] * self.meetings
        if self.support.meetings is None:
            return [True] * self.meetings
        return [i + 1 in self.support.meetings for i in range(self.meetings)]

    def pass_probabilities(self) -> list[float]:
        if isinstance(self.pass_probability, list):
            return list(self.pass_probability)
        return [float(self.pass_probability)] * self.meetings

    def win_probability(self) -> float:
        p = 1.0
        for x in self.pass_probabilities():
            p *= x
        return p


class ChurnSpec(Spec):
    """Monthly churn hazard of a segment's customers."""

    monthly_rate: Probability = Field(0.02, description="monthly churn probability of a covered, onboarded account")
    onboarding_months: Int = Field(3, ge=0, le=lim.MAX_TENURE_MONTHS,
                                   description="months after signing counted as onboarding")
    onboarding_multiplier: Float = Field(1.5, ge=0, le=lim.MAX_MULTIPLIER,
                                         description="hazard multiplier during onboarding")
    uncovered_multiplier: Float = Field(
        1.5, ge=0, le=lim.MAX_MULTIPLIER, description="hazard multiplier for accounts beyond their CSM's coverage"
    )


class ExpansionSpec(Spec):
    """Expansion (upsell, cross-sell) of a segment's customers.

    Without an account-management role (``customers.expanded_by`` unset) an account expands in a
    month with ``monthly_probability``, by ``mrr_fraction`` of its MRR. With one, each such month
    is an expansion *signal* from the account's book: it becomes an expansion opportunity that
    waits for an account manager with room (``roles.<am>.open_expansions``; lost after
    ``stale_after_days``), takes ``cycle_days`` of the manager's time, and is won when each of its
    meetings passes (``pass_probability``), for the same ``mrr_fraction``."""

    monthly_probability: Probability = Field(
        0.0, description="chance an account expands in a month (with an account manager: an expansion signal)")
    mrr_fraction: FractionDist = Field(
        default_factory=lambda: Constant(value=0.2),
        description="expansion as a fraction of the account's current MRR",
    )
    pass_probability: Probability | list[Probability] = Field(
        0.7, description="with an account manager: probability each meeting of an expansion opportunity passes "
                         "(one value: one meeting; a list: one per meeting). ASSUMPTION")
    cycle_days: Days = Field(
        default_factory=lambda: Lognormal(dist="lognormal", median=21.0, sigma=0.5),
        description="with an account manager: calendar days an expansion opportunity holds the manager, from "
                    "its start to its close. ASSUMPTION")
    stale_after_days: DayTime = Field(
        30.0, description="with an account manager: days a signal waits for a manager with room before it is "
                          "lost. ASSUMPTION")

    def pass_probabilities(self) -> list[float]:
        """One pass probability per meeting of an expansion opportunity."""
        p = self.pass_probability
        return [float(x) for x in p] if isinstance(p, list) else [float(p)]


class ContractSpec(Spec):
    """What a segment's customers sign: the term, the billing, and what happens at term end.

    ``term_months: 1`` (the default) is month to month: the segment's monthly churn hazard
    (``churn``) applies. A longer term (12, 24, 36) is a contract: the account cannot churn
    before its term ends; at each term end it renews with a probability — ``renewal_probability``
    for an account its owner covers, falling linearly to ``uncovered_renewal_probability`` with
    the share of the owner's book beyond coverage (an account with no owner, or a renewal no
    account manager had room to work, counts as uncovered). A renewing account may downsell
    (``downsell_probability``, by ``downsell_fraction`` of its MRR) and takes ``price_uplift``.
    Who works the renewal: the account manager (``customers.expanded_by``) from
    ``renewal_lead_days`` before the date, else the account's owner (``customers.managed_by``).
    An installed account (``warm_start.customers``) is somewhere in its term at the start: its
    current term ends a uniform share of a term from the start (its own latent draw).
    """

    term_months: Literal[1, 12, 24, 36] = Field(1, description="contract term in months; 1: month to month")
    billing: Literal["monthly", "annual_upfront"] = Field(
        "monthly", description="monthly invoices, or each contract year invoiced at its start")
    renewal_probability: Probability = Field(
        0.9, description="P(renewal) of a covered account at term end (median SaaS revenue churn ~10 % a year: "
                         "docs/background/default-figures.md#contracts-and-renewals)")
    uncovered_renewal_probability: Probability = Field(
        0.7, description="P(renewal) of an account nobody covers or whose renewal nobody worked (ASSUMPTION)")
    downsell_probability: Probability = Field(0.1, description="P(a renewing account downsells) (ASSUMPTION)")
    downsell_fraction: FractionDist = Field(
        default_factory=lambda: Constant(value=0.2), description="MRR share a downsell gives up (ASSUMPTION)")
    price_uplift: Float = Field(0.0, ge=0.0, le=1.0, description="price increase at each renewal, as a fraction")
    renewal_lead_days: DayTime = Field(
        90.0, description="days before term end an account manager starts working the renewal (ASSUMPTION)")

    @model_validator(mode="after")
    def _ordered(self) -> ContractSpec:
        if self.billing == "annual_upfront" and self.term_months < 12:
            raise ValueError("billing: annual_upfront needs a term of 12 months or more (term_months: 1 is month "
                             "to month: bill it monthly)")
        if self.uncovered_renewal_probability > self.renewal_probability:
            raise ValueError("uncovered_renewal_probability exceeds renewal_probability: coverage cannot lower "
                             "the odds of renewing")
        return self

    @property
    def contracted(self) -> bool:
        """Whether accounts sign a term longer than a month (renewals instead of a monthly hazard)."""
        return self.term_months > 1


class TrialSpec(Spec):
    """The self-service trial of a segment sold without a rep (``closed_by: none``).

    A lead of the segment starts a trial when it signs up (a lead source ``worked_by: none``) or,
    worked by a development rep, when it becomes an SQL; it converts at the trial's end with
    ``conversion_probability`` — the odds multiplied by ``assisted_odds_multiplier`` when a rep of
    ``assisted_by`` touches the trial (a rep assists at most ``trials_assisted`` trials at once) —
    or lapses."""

    days: Days = Field(default_factory=lambda: Constant(value=14.0),
                       description="calendar days from sign-up to the trial's end (conversion or lapse)")
    conversion_probability: Probability = Field(description="P(the trial converts to a paying customer)")
    assisted_by: str | None = Field(None, description="role that touches trials (touch-assist), if any")
    assisted_odds_multiplier: Multiplier = Field(
        1.5, description="multiplies the odds of converting a trial a rep assisted (ASSUMPTION)")


class SegmentSpec(Spec):
    """A market tier (SMB, mid-market, enterprise): deal size, sales process, churn."""

    mrr_usd: MoneyDist = Field(
        description="new MRR of a won deal")
    closed_by: str = Field("ae", description="role that works this segment's opportunities; none: self-service "
                                             "(a trial, no rep: see trial)")
    trial: TrialSpec | None = Field(None, description="closed_by: none: the self-service trial")
    opportunity: OpportunitySpec = Field(default_factory=OpportunitySpec)
    churn: ChurnSpec = Field(default_factory=ChurnSpec)
    expansion: ExpansionSpec = Field(default_factory=ExpansionSpec)
    contract: ContractSpec = Field(default_factory=ContractSpec,
                                   description="term, billing and renewal (default: month to month)")


# --------------------------------------------------------------------------- lead flows


SpeedProfileName = Literal["none", "mit_2007", "hbr_2011", "custom"]


class SpeedToLeadSpec(Spec):
    """How the odds of qualifying fall with the delay before first touch.

    ``hbr_2011``: within 1 h = 1, 2 h = 1/7, >= 24 h = 1/60 (Oldroyd et al., HBR 2011).
    ``mit_2007``: 5 min = 1, 30 min = 1/21 (Oldroyd, MIT Lead Response Management study).
    Sources: docs/background/default-figures.md#speed-to-lead.
    ``custom``: ``points`` of (delay_hours, odds_multiplier). Between points the multiplier is
    interpolated linearly in log(delay) and log(multiplier); flat outside them.
    """

    profile: SpeedProfileName = "hbr_2011"
    points: list[tuple[PointHours, PointMultiplier]] | None = None

    @model_validator(mode="after")
    def _custom_needs_points(self) -> SpeedToLeadSpec:
        if self.profile == "custom" and not self.points:
            raise ValueError("profile 'custom' needs points: [[delay_hours, odds_multiplier], ...]")
        if self.profile != "custom" and self.points:
            raise ValueError("points are only used with profile: custom")
        if self.points and any(b[0] <= a[0] for a, b in zip(self.points, self.points[1:], strict=False)):
            raise ValueError("points must have increasing delays")
        return self


class InboundSpec(Spec):
    """Inbound MQLs: a Poisson process worked by a development role (MDRs).

    The top-level ``inbound:`` block is shorthand for the lead source named ``inbound``
    (``lead_sources.inbound`` with ``kind: inbound``)."""

    kind: Literal["inbound"] = Field("inbound", description="inbound: MQLs arriving at a monthly rate")
    mqls_per_month: Float = Field(ge=0, le=lim.MAX_LEADS_PER_MONTH, description="mean MQL arrivals in month 1")
    growth_per_month: Float = Field(0.0, gt=-1.0, le=lim.MAX_GROWTH_PER_MONTH,
                                    description="compound monthly growth of the rate")
    seasonality: list[Multiplier] | None = Field(
        None, min_length=12, max_length=12, description="12 multipliers, month 1 first"
    )
    business_hours_only: StrictBool = Field(True, description="MQLs arrive only during working hours")
    arrival_times_days: list[DayTime] | None = Field(
        None, max_length=lim.MAX_LEADS_PER_REPLICATION,
        description="scripted arrival times, within the horizon (replaces the Poisson process; for replay and tests)"
    )
    segment_mix: dict[str, Weight] = Field(min_length=1, description="relative weight of each segment")
    worked_by: str = Field("mdr", description="development role that works MQLs; none: nobody (sign-ups: a "
                                              "self-service segment's start their trial, others go to the "
                                              "closers as SQLs at qualify_probability)")
    dials_to_connect: Dials = Field(
        default_factory=lambda: Geometric(dist="geometric", mean=3.0),
        description="dials an MQL needs before it is reached (default: a hand-raiser, geometric with mean 3)",
    )
    max_attempts: Attempts | None = Field(
        None, description="the cadence of this source: most attempts before a lead ends unreachable "
                          "(null: contact.max_attempts)")
    qualify_probability: Probability = Field(description="P(SQL | reached at once); worked_by: none: P(SQL) of "
                                                         "a sign-up of a segment sold by a rep")
    speed_to_lead: SpeedToLeadSpec = Field(default_factory=SpeedToLeadSpec)
    response_minutes: MinutesDist = Field(
        default_factory=lambda: Constant(value=5.0),
        description="minutes a free rep takes to pick up a new MQL (added to any queue wait)",
    )
    max_wait_days: Float = Field(
        14.0, gt=0, le=lim.MAX_CAPACITY, description="an MQL not touched within this many days is dropped as stale"
    )
    queue_order: Literal["oldest_first", "newest_first"] = Field(
        "oldest_first", description="which waiting MQL a free rep takes (newest_first: call fresh leads first)"
    )
    cost_per_mql_usd: Money = Field(0.0, description="marketing cost per MQL (for CAC)")


class OutboundSpec(Spec):
    """Outbound prospecting: development reps (SDRs) work prospect lists.

    The top-level ``outbound:`` block is shorthand for the lead source named ``outbound``
    (``lead_sources.outbound`` with ``kind: outbound``)."""

    kind: Literal["outbound"] = Field("outbound", description="outbound: prospects loaded from each rep's "
                                                              "monthly list")
    worked_by: str = Field("sdr", description="development role that prospects")
    prospects_per_rep_month: Float = Field(
        480.0, ge=0, le=lim.MAX_PROSPECTS_PER_REP_MONTH,
        description="prospects a fully ramped rep may load per month (list size)"
    )
    segment_mix: dict[str, Weight] = Field(min_length=1, description="relative weight of each segment")
    dials_to_connect: Dials = Field(
        default_factory=lambda: Geometric(dist="geometric", mean=12.5),
        description="dials a prospect needs before it is reached (default: the book's 10–15 dials per connect "
                    "as an average rate, geometric with mean 12.5)",
    )
    max_attempts: Attempts | None = Field(
        None, description="the cadence of this source: most attempts before a prospect ends unreachable "
                          "(null: contact.max_attempts)")
    lead_probability: Probability = Field(0.55, description="P(lead | prospect reached)")
    sql_probability: Probability = Field(description="P(SQL | lead)")
    cost_per_prospect_usd: Money = Field(0.0, description="cost of each prospect loaded (list data, for CAC)")


LeadSourceSpec = Annotated[InboundSpec | OutboundSpec, Field(discriminator="kind")]
"""One lead source of ``lead_sources``: inbound MQLs or outbound prospects (``kind``)."""

SHORTHAND_SOURCES = ("inbound", "outbound")
"""The top-level blocks that are shorthand for a lead source of that name and kind."""


class CadenceSpec(Spec):
    """How development reps work a lead: attempts per day and the most attempts before giving up."""

    attempts_per_day: Int = Field(3, ge=1, le=MAX_ATTEMPTS)
    max_attempts: Int = Field(30, ge=1, le=MAX_ATTEMPTS)


class HandoffLegSpec(Spec):
    """One kind of hand-off of an SQL to a closer: its delay, leakage and context loss."""

    delay_days: Days = Field(default_factory=lambda: Constant(value=2.0))
    leakage_probability: Probability = Field(0.05, description="chance an SQL is lost in the hand-off")
    win_odds_multiplier: Float = Field(
        1.0, gt=0, le=10,
        description="context loss: multiplies the odds of passing the first meeting (1 = no effect)",
    )


class HandoffSpec(HandoffLegSpec):
    """Hand-offs across functions (between pools, or from a pool to a POD), and the wait for a
    free closer."""

    stale_after_days: Float = Field(
        30.0, gt=0, le=lim.MAX_CAPACITY, description="an SQL waiting this long for a free closer is dropped as stale"
    )


class HiringWaveSpec(Spec):
    """Requisitions opened at the start of ``month`` for ``count`` new reps of ``role``."""

    month: Int = Field(ge=1, le=lim.MAX_HORIZON_MONTHS,
                       description="month the requisitions open (1 = at the start; within the horizon)")
    role: str
    count: Int = Field(ge=0, le=lim.MAX_SEATS_PER_ROLE)
    team: str | None = Field(None, description="POD that gets the reps (default: the POD with fewest of the role)")


class HiringSpec(Spec):
    """Hiring plans: dated waves and/or monthly headcount targets ("hire to plan"). The default
    recruiting load, 25% of one rep's time per open requisition, is the book's
    (docs/background/default-figures.md#hiring-and-management)."""

    waves: list[HiringWaveSpec] = Field(default_factory=list)
    targets: dict[str, dict[Month, Seats]] = Field(
        default_factory=dict,
        description="role → {month: headcount}: at the start of each month, requisitions open to reach it",
    )
    hires_per_month: HiresPerMonth | None = Field(
        None, description="recruiting capacity: at most this many starts a month; requisitions queue"
    )
    recruiting_load_fte: Float = Field(
        0.25, ge=0, le=1,
        description="share of one rep's time each open requisition takes from its role's team (book: 25%)",
    )


class WorkforceSpec(Spec):
    """What happens to a leaving rep's work."""

    exit_policy: Literal["reassign", "lose"] = Field(
        "reassign", description="a leaving rep's open pipeline and book go to colleagues, or are lost"
    )
    reassign_win_odds_multiplier: Float = Field(
        0.85, gt=0, le=1, description="odds of the next meeting of a reassigned deal are multiplied by this"
    )


class WarmPipelineSpec(Spec):
    """Open pipeline at the start, by stage and age."""

    stage: Literal["mql", "sql", "opportunity"]
    segment: str
    source: str | None = Field(None, description="mql stage: the inbound lead source whose queue the MQLs wait in "
                                                 "(null: the first inbound source)")
    count: Int = Field(ge=0, le=lim.MAX_WARM_ITEMS)
    age_days: Float = Field(0.0, ge=0, le=lim.MAX_DAYS)


class WarmCustomersSpec(Spec):
    """An installed base of customers at the start."""

    segment: str
    count: Int = Field(ge=0, le=lim.MAX_WARM_ITEMS)
    mrr_usd: MoneyDist
    age_months: Float = Field(12.0, ge=0, le=lim.MAX_TENURE_MONTHS)


class WarmStartSpec(Spec):
    """Start from today's org: open pipeline and installed customers (reps and their tenures
    come from ``roles.*.initial_tenure_months``)."""

    pipeline: list[WarmPipelineSpec] = Field(default_factory=list)
    customers: list[WarmCustomersSpec] = Field(default_factory=list)


class CustomersSpec(Spec):
    """Who looks after won customers."""

    managed_by: str | None = Field("csm", description="customer-success role (null: none)")
    expanded_by: str | None = Field(
        None, description="account-management role that works expansion opportunities and renewals (null: none; "
                          "expansion then happens by itself at each segment's monthly_probability)")


class MarketSpec(Spec):
    """Attributes a lead carries besides its segment, drawn at its creation (weights)."""

    regions: dict[str, Weight] = Field(default_factory=dict, description="region name → weight")
    industries: dict[str, Weight] = Field(default_factory=dict, description="industry name → weight")


class PodSpec(Spec):
    """A cross-functional team: how many reps of each role it holds and the market it owns."""

    composition: dict[str, Seats] = Field(
        description="role name → reps in this POD (e.g. {mdr: 1, sdr: 1, ae: 3, csm: 1})"
    )
    segments: list[str] | None = Field(None, description="segments this POD owns (null: all)")
    regions: list[str] | None = Field(None, description="regions this POD owns (null: all)")
    industries: list[str] | None = Field(None, description="industries this POD owns (null: all)")


class PodLeadSpec(Spec):
    """A POD lead: the first seat of ``role`` in each POD leads the team and sells only part of its time."""

    role: str = Field(description="the role of the POD lead (a role in the PODs' compositions, e.g. ae)")
    selling_share: Float = Field(0.5, gt=0, le=1, description="share of the POD lead's time spent selling")


class PodEffectsSpec(Spec):
    """What a POD changes for its members and customers besides hand-offs and pooling
    (docs/guides/org-structures.md#pod-effects). Every default is 1.0: no effect."""

    ramp_speed_multiplier: Float = Field(
        1.0, gt=0, le=lim.MAX_MULTIPLIER,
        description="a new rep in a POD climbs its ramp this many times faster (sits with a team)")
    attrition_hazard_multiplier: Float = Field(
        1.0, gt=0, le=lim.MAX_MULTIPLIER,
        description="a POD rep's tenure clock runs this many times as fast (below 1: they stay longer)")
    churn_hazard_multiplier: Float = Field(
        1.0, ge=0, le=lim.MAX_MULTIPLIER,
        description="churn hazard of the POD's customers (continuity for the customer: below 1)")
    win_odds_multiplier: Float = Field(
        1.0, gt=0, le=lim.MAX_MULTIPLIER,
        description="odds multiplier on the first meeting of a POD closer's deals (a shared goal)")
    pod_lead: PodLeadSpec | None = Field(None, description="an optional POD lead who still sells (null: none)")

    def is_neutral(self) -> bool:
        return self == PodEffectsSpec()


RoutingPolicy = Literal["territory", "round_robin", "least_loaded"]
OverflowRule = Literal["wait", "spill", "lose"]


class OrgSpec(Spec):
    """How the roles are organized.

    * ``silo``: every role is one shared pool; SQLs cross from development pools to the closer
      pool with the top-level ``handoff``.
    * ``pod``: every rep sits in a POD (``pods``); hand-offs inside a POD use ``pod_handoff``.
    * ``hybrid``: PODs plus ``pooled_roles`` shared by all of them (e.g. pooled MDRs feeding POD
      closers, or a pooled CSM team behind PODs); hand-offs between a pool and a POD use
      ``handoff``.
    """

    structure: Literal["silo", "pod", "hybrid"] = "silo"
    pods: dict[str, PodSpec] = Field(default_factory=dict)
    pooled_roles: list[str] = Field(default_factory=list, description="hybrid: roles shared by all PODs")
    routing: RoutingPolicy = Field(
        "territory", description="how a lead picks a POD: its market slice, round robin, or least loaded"
    )
    overflow: OverflowRule = Field(
        "wait", description="when the chosen POD has no free rep: wait there, spill to another POD, or lose the lead"
    )
    pod_handoff: HandoffLegSpec | None = Field(
        None, description="hand-offs inside a POD (default: the same as handoff)"
    )
    pod_effects: PodEffectsSpec = Field(
        default_factory=PodEffectsSpec, description="what a POD changes besides hand-offs: ramp, attrition, "
                                                    "churn, win odds, a POD lead (defaults: no effect)")


PipelineMove = Literal["keep", "reassign"]
AccountMove = Literal["follow_owner", "rebalance"]


class ReorgSpec(Spec):
    """A change of structure during the run (docs/guides/reorganizing.md): at the start of
    ``month`` the org becomes ``org`` (and each role's headcount ``headcount``), reps keep their
    seats' random draws, and the transition disrupts the org for ``transition_weeks``."""

    month: Int = Field(ge=0, le=lim.MAX_HORIZON_MONTHS,
                       description="the reorg takes effect at the start of this month (0: from day one; "
                                   "earlier months' books are closed first)")
    org: OrgSpec = Field(description="the target org (structure, PODs, pooled roles, routing), as under org:; "
                                     "in a file, org_from: FILE takes FILE's org: block as its base (merged like "
                                     "extends, the path relative to the file naming it)")
    headcount: dict[str, Seats] = Field(
        default_factory=dict,
        description="role name → headcount after the reorg (default: unchanged); new seats open as requisitions, "
                    "surplus seats close by attrition (no backfill)",
    )
    transition_weeks: Float = Field(
        0.0, ge=0, le=lim.MAX_DAYS / 7,
        description="weeks the new teams take to form (the productivity dip lasts this long)")
    productivity_multiplier: Float = Field(
        1.0, gt=0, le=1, description="every rep's productivity is multiplied by this during the transition")
    pipeline: PipelineMove = Field(
        "keep", description="open opportunities: keep (each stays with its closer, who moves with it) or "
                            "reassign (to a closer of the team that owns the lead in the new org)")
    context_loss_odds_multiplier: Float = Field(
        1.0, gt=0, le=1, description="pipeline: reassign — odds multiplier on the next meeting of a reassigned deal")
    accounts: AccountMove = Field(
        "follow_owner", description="customer accounts: follow_owner (each stays with its CSM) or rebalance "
                                    "(spread over the new team's owners, least loaded first)")
    attrition_hazard_multiplier: Float = Field(
        1.0, ge=1, le=lim.MAX_MULTIPLIER,
        description="people leave after reorganizations: the tenure clock of every rep present runs this many "
                    "times faster for attrition_months (for an exponential tenure: the hazard × this)")
    attrition_months: Float = Field(
        0.0, ge=0, le=lim.MAX_TENURE_MONTHS,
        description="months after the reorg during which attrition_hazard_multiplier applies")
    cost_usd: Float = Field(
        0.0, ge=0, le=lim.MAX_MONEY_USD,
        description="one-off cost of the reorg (consultants, off-sites, tooling), booked in its month")


# --------------------------------------------------------------------------- unit economics


class EconomicsSpec(Spec):
    """What the money KPIs count (docs/reference/kpis.md#unit-economics): the gross margin of
    revenue, which roles' cost is acquisition (CAC) and which is retention (CRC), and overhead.

    A role list left out (null) goes by the roles' jobs: roles that work inbound, prospect or close
    are acquisition, roles that manage accounts are retention; a role with jobs of both kinds is
    split by its desks' shares of its reps' time. A list given replaces that default for its side.
    A role in neither counts in ``cost_usd`` only. The default gross margin, 80 %, is the public
    SaaS median (docs/background/default-figures.md#unit-economics)."""

    gross_margin: Probability = Field(
        0.8, description="share of MRR left after the cost of serving it (hosting, support); SaaS median ~0.8"
    )
    acquisition_roles: list[str] | None = Field(
        None, description="roles whose cost is acquisition cost, in CAC (null: roles that work leads or close)"
    )
    retention_roles: list[str] | None = Field(
        None, description="roles whose cost is retention cost, in CRC (null: roles that manage accounts)"
    )
    acquisition_overhead_usd_per_month: Money = Field(
        0.0, description="sales and marketing cost beyond reps, their managers and tools, and leads (leadership), "
                         "in CAC"
    )
    marketing_programs_usd_per_month: Money = Field(
        0.0, description="marketing programmes (events, content, brand) beyond each source's cost per lead, in CAC"
    )
    retention_overhead_usd_per_month: Money = Field(
        0.0, description="customer-success cost beyond its reps (leadership, tools), in CRC"
    )


NAMED_MAPS: dict[tuple[str, ...], str] = {
    ("roles",): "role",
    ("segments",): "segment",
    ("lead_sources",): "lead source",
    ("org", "pods"): "POD",
    ("market", "regions"): "region",
    ("market", "industries"): "industry",
}
"""The maps whose keys name things the scenario defines: ``--set`` adds a name to one of them only
when asked to (``+roles.vp.headcount=1``), so that a typo (``roles.AE``) is not a new, idle role."""

NAME_PATTERN = r"^[A-Za-z0-9_\-][A-Za-z0-9_.\-]*$"
"""A scenario's name becomes a folder name: no path separator, no ``.`` or ``..``, not hidden."""
NAME_MAX = 64
_RESERVED_NAMES = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                             *(f"lpt{i}" for i in range(1, 10))})
"""Names Windows keeps for devices (``nul.txt`` too): no folder can have them."""


def check_name(name: str) -> str:
    """``name`` if it is a safe folder name for results; otherwise ``ValueError`` saying why."""
    import re

    if not name:
        raise ValueError("a scenario needs a name (it names the results folder)")
    if len(name) > NAME_MAX:
        raise ValueError(f"a scenario name has at most {NAME_MAX} characters (this one has {len(name)})")
    if not re.fullmatch(NAME_PATTERN, name):
        raise ValueError(f"a scenario name becomes a folder name: use letters, digits, '_', '-' and '.', "
                         f"not starting with '.' (got {name!r})")
    if name.split(".")[0].lower() in _RESERVED_NAMES:
        raise ValueError(f"{name!r} is a device name on Windows and cannot name a folder; choose another name")
    return name


class Scenario(Spec):
    """A complete scenario: org, market, sales process and horizon."""

    name: str = Field(description="names the results folder (results/<name>): letters, digits, '_', '-' and "
                                  "'.', not starting with '.', at most 64 characters",
                      json_schema_extra={"pattern": NAME_PATTERN, "minLength": 1, "maxLength": NAME_MAX})
    description: str = ""
    start_date: dt.date | None = Field(
        None,
        description="first day of the run (YYYY-MM-DD): months are then calendar months, hiring waves and "
                    "targets may be given as dates, public holidays close days, and series carry dates; "
                    "null: months of 365.25/12 days from a Monday",
    )
    horizon_months: Int = Field(24, ge=1, le=lim.MAX_HORIZON_MONTHS)
    calendar: CalendarSpec = Field(default_factory=CalendarSpec)
    org: OrgSpec = Field(default_factory=OrgSpec)
    roles: dict[str, RoleSpec] = Field(min_length=1)
    segments: dict[str, SegmentSpec] = Field(min_length=1)
    inbound: InboundSpec | None = Field(None, description="shorthand for the lead source named inbound")
    outbound: OutboundSpec | None = Field(None, description="shorthand for the lead source named outbound")
    lead_sources: dict[str, LeadSourceSpec] = Field(
        default_factory=dict,
        description="lead sources by name (kind: inbound | outbound), each with its volume, segment mix, the "
                    "role that works it (or none), cadence and conversions",
    )
    contact: CadenceSpec = Field(default_factory=CadenceSpec)
    handoff: HandoffSpec = Field(default_factory=HandoffSpec)
    customers: CustomersSpec = Field(default_factory=CustomersSpec)
    market: MarketSpec = Field(default_factory=MarketSpec)
    hiring: HiringSpec = Field(default_factory=HiringSpec)
    workforce: WorkforceSpec = Field(default_factory=WorkforceSpec)
    warm_start: WarmStartSpec = Field(default_factory=WarmStartSpec)
    economics: EconomicsSpec = Field(default_factory=EconomicsSpec)
    reorg: list[ReorgSpec] = Field(
        default_factory=list, description="dated changes of structure during the run, at most one a month "
                                          "(docs/guides/reorganizing.md)")
    deterministic: StrictBool = Field(
        False, description="all variance off: durations at their means, evenly spread draws and arrivals "
                           "(compare with `salesim plan`); see sim.scenario.deterministic",
    )

    @field_validator("name")
    @classmethod
    def _safe_name(cls, name: str) -> str:
        return check_name(name)

    def resolved(self) -> dict[str, Any]:
        """The scenario as plain data with every default filled in (JSON-compatible). The calendar
        fields of dated runs (``start_date``, holidays, absence) appear only when they are used, so
        an undated scenario resolves — and hashes — as it did before they existed."""
        data = self.model_dump(mode="json", by_alias=True)
        if data.get("start_date") is None:
            data.pop("start_date", None)
        if not data.get("reorg"):
            data.pop("reorg", None)
        for org in (data.get("org", {}), *(change.get("org", {}) for change in data.get("reorg", []))):
            if org.get("pod_effects") == PodEffectsSpec().model_dump(mode="json", by_alias=True):
                org.pop("pod_effects")  # no effect: resolved (and hashed) as before the field existed
        calendar = data.get("calendar", {})
        for field, unused in (("holidays", []), ("holiday_country", None), ("pto_days_per_year", 0.0),
                              ("sick_days_per_year", 0.0)):
            if calendar.get(field) == unused:
                calendar.pop(field, None)
        return data

    def month_start_days(self) -> list[float]:
        """Day (from the start) on which each month 1 … horizon + 1 begins (the last: the horizon);
        calendar months with a ``start_date`` (:func:`sim.workcalendar.month_start_days`)."""
        return month_start_days(self.horizon_months, self.start_date)

    def month_dates(self) -> list[dt.date] | None:
        """With a ``start_date``: the last day of each month 0 … horizon (month 0: the day before the
        start), the day whose end a month's stocks describe. None without one."""
        if self.start_date is None:
            return None
        return [add_months(self.start_date, m) - dt.timedelta(days=1) for m in range(self.horizon_months + 1)]

    def sha256(self) -> str:
        """Hash of the resolved scenario (what identifies a results folder)."""
        text = json.dumps(self.resolved(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @property
    def sources(self) -> dict[str, InboundSpec | OutboundSpec]:
        """Every lead source by name, in order: the ``inbound:`` shorthand (named ``inbound``), the
        ``outbound:`` shorthand (named ``outbound``), then ``lead_sources`` in file order."""
        out: dict[str, InboundSpec | OutboundSpec] = {}
        if self.inbound is not None:
            out["inbound"] = self.inbound
        if self.outbound is not None:
            out["outbound"] = self.outbound
        for name, spec in self.lead_sources.items():
            out.setdefault(name, spec)
        return out

    def inbound_sources(self) -> dict[str, InboundSpec]:
        """The inbound lead sources by name, in :attr:`sources` order."""
        return {n: s for n, s in self.sources.items() if isinstance(s, InboundSpec)}

    def outbound_sources(self) -> dict[str, OutboundSpec]:
        """The outbound lead sources by name, in :attr:`sources` order."""
        return {n: s for n, s in self.sources.items() if isinstance(s, OutboundSpec)}

    def contact_default(self):
        """Dials to connect of a warm-start lead: the first inbound source's, else the first outbound
        source's, else geometric with mean 12.5."""
        for spec in (*self.inbound_sources().values(), *self.outbound_sources().values()):
            return spec.dials_to_connect
        return Geometric(dist="geometric", mean=12.5)

    def jobs_of(self, role: str) -> tuple[Job, ...]:
        """What ``role`` does (:mod:`sim.scenario.jobs`): its jobs in :class:`Job` order; empty for a
        role with no job in the flow (its reps still cost and count)."""
        return jobs_by_role(self).get(role, ())

    def roles_with(self, job: Job) -> list[str]:
        """The roles that do ``job``, in the order of ``roles``."""
        doing = jobs_by_role(self)
        return [role for role in self.roles if job in doing.get(role, ())]

    def desk_shares(self, role: str) -> dict[Desk, float]:
        """Share of each rep's time at each of the role's desks (one desk: all of it)."""
        return desk_shares(self.jobs_of(role), self.roles[role].time_split)

    def self_service(self, segment: str) -> bool:
        """Whether ``segment`` is sold without a rep (``closed_by: none``: a trial)."""
        return self.segments[segment].closed_by == NO_ROLE

    @property
    def account_role(self) -> str | None:
        """The role that manages customer accounts (CSMs by default), or None."""
        roles = self.roles_with(Job.MANAGE_ACCOUNTS)
        return roles[0] if roles else None


