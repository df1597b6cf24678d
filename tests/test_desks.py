"""The desks one at a time: :class:`DevelopmentDesk`, :class:`ClosingDesk` and :class:`Accounts`.

Each test builds one desk directly — a calendar ``Environment``, a ``RolePool`` with a few
``Rep``s joined by hand (as ``Workforce`` does, without its processes) and hand-made leads whose
latent draws are chosen — and checks the times and end states that the desk's rules give,
worked out by hand. A 24/7 working calendar makes working time equal calendar time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from scenario_builders import CALENDAR_24_7, constant, role, segment

from sim.eventlog import LEAD_FIELDS, AccountEvent, EventLog, LeadState
from sim.model.accounts import Accounts
from sim.model.closing import ClosingDesk, HandoffLeg
from sim.model.development import DevelopmentDesk
from sim.model.engine.calendar import Environment
from sim.model.engine.odds import scale_odds
from sim.model.leads import Lead
from sim.model.workforce import Rep, RolePool
from sim.rng import Streams
from sim.scenario import CadenceSpec, HandoffLegSpec, InboundSpec, RoleSpec, SegmentSpec
from sim.workcalendar import DAYS_PER_MONTH, WorkCalendar

D = DAYS_PER_MONTH


# --------------------------------------------------------------------------- building blocks


def make_lead(lead_id: int, created_t: float = 0.0, *, dials: int = 1, u_qualify: float = 0.0, u_leak: float = 0.99,
              u_pass: tuple[float, ...] = (0.0, 0.0), mrr: float = 1000.0, churn_budget: float = 100.0,
              segment_index: int = 0) -> Lead:
    """An inbound lead with the given latent draws (the meeting gaps are constant in these tests)."""
    lead = Lead()
    lead.id, lead.index, lead.source, lead.segment = lead_id, lead_id, 0, segment_index
    lead.region, lead.industry = 0, 0
    lead.created_t = created_t
    lead.response_days = 0.0
    lead.dials_needed = dials
    lead.u_qualify, lead.u_sql, lead.u_leak, lead.u_handoff = u_qualify, 0.0, u_leak, 0.5
    lead.mrr_usd, lead.churn_budget = mrr, churn_budget
    lead.meeting_block = np.array([[*u_pass, *[0.5] * len(u_pass)]])
    lead.meeting_row = 0
    return lead


def join(env: Environment, pool: RolePool, rep_id: int) -> Rep:
    """A fully ramped rep joins ``pool`` now (what ``Workforce._add_rep`` tells the desk)."""
    rep = Rep(rep_id, pool, rep_id, env.now, 0.0, [1.0])
    pool.reps.append(rep)
    assert pool.desk is not None
    pool.desk.rep_joined(rep)
    pool.fte.add(env.now, rep.productivity)
    return rep


def leave(pool: RolePool, rep: Rep, lose: bool = False) -> None:
    """``rep`` leaves now (what ``Workforce._leave`` tells the desk)."""
    rep.active = False
    pool.reps.remove(rep)
    assert pool.desk is not None
    pool.desk.rep_leaving(rep, lose)


def records(log: EventLog) -> dict[int, dict[str, Any]]:
    """The lead records by lead id, as dicts of ``LEAD_FIELDS``."""
    return {row[0]: dict(zip(LEAD_FIELDS, row, strict=True)) for row in log.leads}


def new_log() -> EventLog:
    return EventLog(roles=["mdr", "ae", "csm"], segments=["s", "t"], horizon_months=3)


# --------------------------------------------------------------------------- development desk

MDR = RoleSpec.model_validate(role(1, dials_per_day=3.0))
"""3 dials a day at 3 attempts a day per lead: one cadence slot, a dial every 1/3 day."""
CADENCE = CadenceSpec(attempts_per_day=3, max_attempts=6)
MAX_WAIT_DAYS = 2.0
QUALIFY = 0.5


def inbound_spec() -> InboundSpec:
    return InboundSpec.model_validate({
        "mqls_per_month": 0.0, "segment_mix": {"s": 1.0}, "worked_by": "mdr", "dials_to_connect": constant(1),
        "qualify_probability": QUALIFY, "speed_to_lead": {"profile": "none"}, "response_minutes": 0.0,
        "max_wait_days": MAX_WAIT_DAYS,
    })


class DevelopmentWorld:
    """One MDR desk serving inbound MQLs, with ``reps`` reps; SQLs are collected with their times."""

    def __init__(self, reps: int = 1) -> None:
        self.env = Environment()
        self.log = new_log()
        self.pool = RolePool("mdr", 0, MDR)
        self.sqls: list[tuple[int, float]] = []
        self.desk = DevelopmentDesk(self.env, WorkCalendar(**CALENDAR_24_7), self.log, self.pool, CADENCE,
                                    lambda lead: self.sqls.append((lead.id, self.env.now)))
        self.desk.serve_inbound(inbound_spec())
        self.reps = [join(self.env, self.pool, i) for i in range(reps)]

    def arrive(self, lead: Lead) -> Lead:
        self.env.call_at(lead.created_t, self.desk.arrive, lead)
        return lead

    def at(self, t: float, fn: Callable[..., Any], *args: Any) -> None:
        self.env.call_at(t, fn, *args)

    def run(self, until: float) -> dict[int, dict[str, Any]]:
        self.env.run(until=until)
        return records(self.log)


def test_a_lead_is_reached_after_its_dials_at_the_cadence_rate() -> None:
    world = DevelopmentWorld()
    lead = world.arrive(make_lead(0, created_t=1.0, dials=4, u_qualify=QUALIFY - 0.01))
    assert world.desk.pool.capacity.value == 1  # ceil(3 dials a day / 3 attempts a day)
    world.run(until=10.0)
    reached = 1.0 + 4 / 3  # first touch on arrival, 4 dials at 1/3 day each
    assert world.sqls == [(0, pytest.approx(reached))]
    assert lead.first_touch_t == 1.0
    assert lead.connect_t == lead.sql_t == pytest.approx(reached)
    assert lead.dials_done == 4 and lead.dev_rep == world.reps[0].id and lead.dev_team == 0
    assert world.pool.busy.value == 0 and world.reps[0].load == 0
    assert len(world.log.leads) == 0  # an SQL's record is written by the closing side


def test_a_reached_lead_above_the_qualify_odds_is_not_a_fit_and_one_beyond_the_attempts_unreachable() -> None:
    world = DevelopmentWorld(reps=2)
    world.arrive(make_lead(0, created_t=1.0, dials=2, u_qualify=QUALIFY))  # not below 0.5: no SQL
    world.arrive(make_lead(1, created_t=1.0, dials=CADENCE.max_attempts + 1))
    got = world.run(until=10.0)
    assert world.sqls == []
    assert got[0]["state"] == LeadState.NOT_A_FIT
    assert got[0]["end_t"] == got[0]["connect_t"] == pytest.approx(1.0 + 2 / 3)
    assert math.isnan(got[0]["sql_t"]) and got[0]["dials"] == 2
    assert got[1]["state"] == LeadState.UNREACHABLE  # gave up after max_attempts dials
    assert got[1]["end_t"] == pytest.approx(1.0 + CADENCE.max_attempts / 3)
    assert got[1]["dials"] == CADENCE.max_attempts and math.isnan(got[1]["connect_t"])


def test_an_mql_untouched_for_max_wait_days_is_dropped_as_stale() -> None:
    world = DevelopmentWorld()
    world.arrive(make_lead(0, created_t=0.0, dials=CADENCE.max_attempts))  # holds the only slot until day 2
    world.arrive(make_lead(3, created_t=-1.0))  # waiting since the day before (as a warm start's MQL)
    world.arrive(make_lead(2, created_t=0.25, u_qualify=0.9))
    world.arrive(make_lead(1, created_t=0.5))
    got = world.run(until=5.0)
    # Day 2: lead 0 is reached. Lead 3, untouched for 3 days, is dropped as stale as of -1 + 2;
    # lead 2 (1.75 days old) gets the slot, then lead 1 at 2 + 1/3 (1.83 days old).
    assert got[3]["state"] == LeadState.STALE
    assert got[3]["end_t"] == pytest.approx(-1.0 + MAX_WAIT_DAYS)
    assert math.isnan(got[3]["first_touch_t"]) and got[3]["dials"] == 0
    assert got[2]["state"] == LeadState.NOT_A_FIT
    assert got[2]["first_touch_t"] == pytest.approx(CADENCE.max_attempts / 3)
    assert world.sqls == [(0, pytest.approx(2.0)), (1, pytest.approx(2.0 + 2 / 3))]


def test_a_leaving_reps_leads_are_handed_back_first_in_their_cadence() -> None:
    world = DevelopmentWorld(reps=1)
    lead = world.arrive(make_lead(0, created_t=1.0, dials=6))  # would be reached at 1 + 6/3 = 3
    world.arrive(make_lead(1, created_t=1.1))  # queued: the only slot is busy

    def replace_the_rep() -> None:
        leave(world.pool, world.reps[0])  # nobody left to take the lead: it waits, already touched
        assert list(world.desk.orphans) == [lead] and world.desk.backlog() == 2
        join(world.env, world.pool, 7)

    world.at(1.5, replace_the_rep)
    world.run(until=10.0)
    # 2 dials by the leaver (at 1.0 and 1.33), then the 4 left from 1.5 at 1/3 day each: the
    # orphan goes before the MQL that was queued first
    assert world.sqls[0] == (0, pytest.approx(1.5 + 4 / 3))
    assert world.sqls[1] == (1, pytest.approx(1.5 + 4 / 3 + 1 / 3))
    assert lead.first_touch_t == 1.0 and lead.dev_rep == 7 and lead.dials_done == 6


def test_a_leaving_reps_leads_are_lost_with_the_lose_policy() -> None:
    world = DevelopmentWorld(reps=1)
    world.arrive(make_lead(0, created_t=1.0, dials=6))
    world.at(1.5, lambda: leave(world.pool, world.reps[0], lose=True))
    got = world.run(until=10.0)
    assert got[0]["state"] == LeadState.LOST_AT_EXIT
    assert got[0]["end_t"] == 1.5 and got[0]["dials"] == 2  # dialled at 1.0 and 1.33
    assert world.sqls == [] and world.pool.capacity.value == 0


# --------------------------------------------------------------------------- closing desk

GAP = 5.0
"""Days before each meeting."""
SEGMENTS = [
    SegmentSpec.model_validate(segment(meetings=1, pass_probability=1.0, gap_days=constant(GAP))),
    SegmentSpec.model_validate(segment(meetings=2, pass_probability=0.6, gap_days=constant(GAP))),
]
"""Segment 0: one meeting, always won; segment 1: two meetings passed with probability 0.6 each."""


def leg(delay: float = 0.0, leakage: float = 0.0, win_odds: float = 1.0) -> HandoffLeg:
    return HandoffLeg(HandoffLegSpec.model_validate({
        "delay_days": constant(delay), "leakage_probability": leakage, "win_odds_multiplier": win_odds}))


class ClosingWorld:
    """One AE desk (``max_open`` opportunities per AE); wins are collected with their times."""

    def __init__(self, max_open: float = 2.0, stale_after_days: float = 1000.0, reassign: float = 1.0,
                 reps: int = 1) -> None:
        self.env = Environment()
        self.log = new_log()
        self.pool = RolePool("ae", 1, RoleSpec.model_validate(role(reps, max_open_opportunities=max_open)))
        self.won: list[tuple[int, float]] = []
        self.desk = ClosingDesk(self.env, self.log, self.pool, SEGMENTS, stale_after_days,
                                lambda lead: self.won.append((lead.id, self.env.now)),
                                reassign_win_odds_multiplier=reassign)
        self.reps = [join(self.env, self.pool, 10 + i) for i in range(reps)]

    def hand_off(self, lead: Lead, t: float = 0.0, by: HandoffLeg | None = None) -> Lead:
        lead.connect_t = lead.sql_t = t
        self.env.call_at(t, self.desk.hand_off, lead, by or leg())
        return lead

    def run(self, until: float) -> dict[int, dict[str, Any]]:
        self.env.run(until=until)
        return records(self.log)


def test_a_closer_holds_at_most_its_capacity_and_the_rest_wait_in_line() -> None:
    world = ClosingWorld(max_open=2.0)
    for i in range(3):
        world.hand_off(make_lead(i))
    world.env.run(until=1.0)
    ae = world.reps[0]
    assert ae.load == 2 and len(world.desk.queue) == 1 and not world.desk.has_room()
    assert world.pool.busy.value == 2 and world.pool.capacity.value == 2
    got = world.run(until=30.0)
    # leads 0 and 1 open at day 0 and are won at their meeting, day 5; lead 2 opens then
    assert world.won == [(0, GAP), (1, GAP), (2, 2 * GAP)]
    assert got[2]["handoff_t"] == 0.0 and got[2]["opportunity_t"] == GAP
    assert all(got[i]["state"] == LeadState.WON and got[i]["closer_rep"] == ae.id for i in range(3))
    assert got[2]["close_t"] == got[2]["end_t"] == 2 * GAP and got[2]["mrr_usd"] == 1000.0
    assert ae.load == 0 and world.pool.busy.value == 0


def test_an_sql_waiting_longer_than_stale_after_days_is_dropped() -> None:
    world = ClosingWorld(max_open=1.0, stale_after_days=3.0)
    world.hand_off(make_lead(0))
    world.hand_off(make_lead(1), t=1.0)  # waits for day 5: stale at 1 + 3
    world.hand_off(make_lead(2), t=4.0)  # waits 1 day: opened at day 5
    got = world.run(until=30.0)
    assert got[1]["state"] == LeadState.STALE and got[1]["end_t"] == 4.0
    assert math.isnan(got[1]["opportunity_t"])
    assert got[2]["opportunity_t"] == GAP and world.won == [(0, GAP), (2, 2 * GAP)]


@pytest.mark.parametrize(("u_pass", "state", "close_t"), [
    ((0.1, 0.2), LeadState.WON, 2 * GAP),  # both meetings passed: won at the last
    ((0.1, 0.6), LeadState.LOST_DEAL, 2 * GAP),  # not below 0.6 at the second meeting
    ((0.7, 0.1), LeadState.LOST_DEAL, GAP),  # lost at the first meeting
])
def test_a_deal_is_won_or_lost_at_the_meeting_that_decides_it(u_pass, state, close_t) -> None:
    world = ClosingWorld()
    world.hand_off(make_lead(0, u_pass=u_pass, mrr=800.0, segment_index=1), t=2.0)
    got = world.run(until=60.0)[0]
    assert got["state"] == state
    assert got["close_t"] == got["end_t"] == 2.0 + close_t
    assert got["mrr_usd"] == (800.0 if state == LeadState.WON else 0.0)
    assert world.won == ([(0, 2.0 + close_t)] if state == LeadState.WON else [])


def test_hand_off_leaks_below_its_leakage_odds_and_loses_context() -> None:
    world = ClosingWorld()
    by = leg(delay=2.0, leakage=0.3, win_odds=0.5)  # first meeting: odds 0.6/0.4 halved, p = 3/7
    world.hand_off(make_lead(0, u_leak=0.29, segment_index=1), by=by)
    world.hand_off(make_lead(1, u_leak=0.3, u_pass=(0.42, 0.1), segment_index=1), by=by)  # 0.42 < 3/7
    world.hand_off(make_lead(2, u_leak=0.3, u_pass=(0.43, 0.1), segment_index=1), by=by)  # 0.43 >= 3/7
    got = world.run(until=60.0)
    assert scale_odds(0.6, 0.5) == pytest.approx(3 / 7)
    assert got[0]["state"] == LeadState.LOST_IN_HANDOFF and got[0]["end_t"] == 2.0  # noticed on arrival
    assert math.isnan(got[0]["handoff_t"])
    assert got[1]["handoff_t"] == got[1]["opportunity_t"] == 2.0
    assert got[1]["state"] == LeadState.WON and got[1]["close_t"] == 2.0 + 2 * GAP
    assert got[2]["state"] == LeadState.LOST_DEAL and got[2]["close_t"] == 2.0 + GAP


@pytest.mark.parametrize(("multiplier", "lose", "expected"), [
    (1.0, False, {0: (LeadState.WON, 2 * GAP), 1: (LeadState.WON, 2 * GAP)}),
    # the next meeting's odds are halved: 0.6 -> 3/7, which u = 0.5 does not pass, u = 0.4 does
    (0.5, False, {0: (LeadState.LOST_DEAL, 2 * GAP), 1: (LeadState.WON, 2 * GAP)}),
    (1.0, True, {0: (LeadState.LOST_AT_EXIT, 7.0), 1: (LeadState.LOST_AT_EXIT, 7.0)}),
])
def test_a_leaving_closers_deals_go_to_the_least_loaded_closer(multiplier, lose, expected) -> None:
    world = ClosingWorld(reassign=multiplier)
    world.hand_off(make_lead(0, u_pass=(0.1, 0.5), segment_index=1))
    world.hand_off(make_lead(1, u_pass=(0.1, 0.4), segment_index=1))
    leaver = world.reps[0]
    world.env.call_at(1.0, lambda: world.reps.append(join(world.env, world.pool, 20)))
    world.env.call_at(7.0, lambda: leave(world.pool, leaver, lose=lose))  # after the first meeting
    got = world.run(until=60.0)
    for lead_id, (state, end_t) in expected.items():
        assert got[lead_id]["state"] == state and got[lead_id]["end_t"] == end_t, lead_id
        assert got[lead_id]["closer_rep"] == (leaver.id if lose else 20)
    assert leaver.load == 0 and world.reps[1].load == 0 and world.pool.busy.value == 0


# --------------------------------------------------------------------------- accounts

RATE = 0.1
UNCOVERED = 3.0
CHURNING = SegmentSpec.model_validate({
    **segment(), "churn": {"monthly_rate": RATE, "onboarding_months": 0, "onboarding_multiplier": 1.0,
                           "uncovered_multiplier": UNCOVERED}})
"""Monthly churn 0.1 for a covered account, up to 0.3 for one beyond its CSM's coverage; no expansion."""


def intensity(h: float) -> float:
    """The constant hazard per month of a monthly churn probability ``h``."""
    return -math.log1p(-h)


class AccountsWorld:
    """The accounts desk of one CSM pool (``csms`` CSMs covering ``covered`` accounts each)."""

    def __init__(self, csms: int, covered: float = 2.0) -> None:
        self.env = Environment()
        self.log = new_log()
        self.accounts = Accounts(self.env, self.log, Streams(7, 0), [CHURNING])
        self.pool = RolePool("csm", 2, RoleSpec.model_validate(role(csms, accounts_covered=covered)))
        self.accounts.attach(self.pool)
        self.csms = [join(self.env, self.pool, 30 + i) for i in range(csms)]

    def sign(self, budgets: list[float]) -> None:
        """Accounts signed at day 0 with the given churn budgets (MRR 100, 200, ...)."""
        for i, budget in enumerate(budgets):
            self.accounts.add_customer(make_lead(i, churn_budget=budget, mrr=100.0 * (i + 1)), 0.0, self.pool)

    def churned(self) -> dict[int, float]:
        return {lead: t for t, kind, lead, _, _ in self.log.accounts if kind == AccountEvent.CHURN}


def test_a_csm_book_beyond_coverage_raises_the_hazard_month_by_month() -> None:
    world = AccountsWorld(csms=1, covered=2.0)
    h1 = RATE * (1 + (UNCOVERED - 1) * (1 - 2 / 4))  # 4 accounts on 2 covered: half uncovered
    h2 = RATE * (1 + (UNCOVERED - 1) * (1 - 2 / 3))  # 3 left after the churn in month 1
    world.sign([0.5 * intensity(h1), intensity(h1) + 0.25 * intensity(h2), 100.0, 100.0])
    csm = world.csms[0]
    assert csm.load == 4 and world.pool.busy.value == 4 and world.pool.capacity.value == 2
    assert [kind for _, kind, *_ in world.log.accounts] == [AccountEvent.NEW] * 4
    world.accounts.month_step(1, 0.0, D)
    assert world.churned() == {0: pytest.approx(0.5 * D)}  # the hazard reached its budget mid-month
    assert csm.load == 3
    world.accounts.month_step(2, D, 2 * D)
    assert world.churned()[1] == pytest.approx(1.25 * D)  # a month at h1, then a quarter at h2
    churn_mrr = [mrr for _, kind, _, _, mrr in world.log.accounts if kind == AccountEvent.CHURN]
    assert churn_mrr == [100.0, 200.0] and csm.load == 2


@pytest.mark.parametrize(("csms", "covered", "h"), [
    (1, 10.0, RATE),  # covered: the segment's rate
    (1, 1.0, RATE * (1 + (UNCOVERED - 1) * 0.5)),  # 2 accounts on 1 covered
    (0, 2.0, RATE * UNCOVERED),  # no CSM: fully uncovered
])
def test_the_churn_instant_follows_the_coverage(csms: int, covered: float, h: float) -> None:
    world = AccountsWorld(csms=csms, covered=covered)
    world.sign([0.4 * intensity(h), 100.0])
    world.accounts.month_step(1, 0.0, D)
    assert world.churned() == {0: pytest.approx(0.4 * D)}


def test_a_leaving_csms_book_moves_on_or_waits_for_the_next_csm() -> None:
    world = AccountsWorld(csms=2, covered=5.0)
    world.sign([100.0] * 4)
    first, second = world.csms
    assert first.load == second.load == 2  # least loaded relative to coverage
    leave(world.pool, first)
    assert second.load == 4 and first.load == 0 and world.pool.capacity.value == 5
    leave(world.pool, second)
    assert world.accounts.orphans == {0: {0, 1, 2, 3}} and world.pool.busy.value == 0
    newcomer = join(world.env, world.pool, 40)  # takes over the accounts left without a CSM
    assert newcomer.load == 4 and world.accounts.orphans == {}
    assert world.accounts._owner_of(3) is newcomer
