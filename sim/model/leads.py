"""Leads and prospects, and the latent draws each carries from its creation.

This module owns the *market*: what belongs to a lead is drawn when it is created, from
streams named after the source (``inbound.*``, ``outbound.*``), in creation order and in
fixed-size blocks (docs/developer/architecture.md#common-random-numbers). The k-th MQL of a
replication therefore has the same segment, region, industry, dials-to-connect, deal size, "would qualify" / "would win"
uniforms, meeting gaps and churn budget in every scenario run with the same seed, whatever
the org chart does to it.

Categorical attributes (segment, region, industry) are inverse transforms of latent
uniforms over the weights in a fixed order; a POD prospecting its own market slice maps the
same uniforms through the slice's weights (:class:`MarketView`).
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np
from librt.strings import read_f64_le
from mypy_extensions import i16, i32, i64, mypyc_attr

from sim.compiled import is_compiled
from sim.eventlog import NAN, LeadRecords, Source
from sim.rng import Streams
from sim.scenario import MAX_ATTEMPTS, MAX_MEETINGS, Scenario
from sim.scenario.dists import DistributionBase
from sim.workcalendar import MINUTES_PER_DAY

_NAN: Final[float] = NAN
"""``NAN`` as a final name: a C static in the compiled build, where an imported name is looked up
in the module's dictionary at every use (five times per lead made)."""

_COMPILED: Final = is_compiled(__file__)
"""Whether this module runs compiled: then a block's draws are kept as bytes (:class:`LeadFactory`)."""

_ROW_VALUES: Final = 11
"""Draws per lead in a block's rows (compiled build): segment, dials, the qualify, SQL, leak and
hand-off uniforms, response days, MRR, churn budget, region and industry."""

BLOCK_SIZE = 1024
"""Leads drawn per block; fixed so that draws never depend on how many leads a run needs."""


class Categorical:
    """A latent uniform → one of ``names`` (index into the scenario's full list), by weight."""

    __slots__ = ("cdf", "index")

    def __init__(self, all_names: list[str], weights: dict[str, float], allowed: set[str] | None = None) -> None:
        chosen = [(n, w) for n, w in weights.items() if w > 0 and (allowed is None or n in allowed)]
        if not chosen:  # an empty slice falls back to the whole market
            chosen = [(n, w) for n, w in weights.items() if w > 0] or [(n, 1.0) for n in weights]
        if not chosen:
            self.index: list[int] = [-1]
            self.cdf: list[float] = [1.0]
            return
        total = sum(w for _, w in chosen) or 1.0
        self.index = [all_names.index(n) for n, _ in chosen]
        acc, cdf = 0.0, []
        for _, w in chosen:
            acc += w / total
            cdf.append(acc)
        cdf[-1] = 1.0
        self.cdf = cdf

    def pick(self, u: float) -> int:
        for i, c in enumerate(self.cdf):
            if u < c:
                return self.index[i]
        return self.index[-1]

    def pick_array(self, u: np.ndarray) -> np.ndarray:
        pos = np.minimum(np.searchsorted(np.asarray(self.cdf), u, side="right"), len(self.cdf) - 1)
        return np.asarray(self.index)[pos]


class MarketView:
    """How latent uniforms become segment, region and industry for one source (and slice)."""

    __slots__ = ("industry", "region", "segment")

    def __init__(self, scenario: Scenario, segment_mix: dict[str, float],
                 segments: set[str] | None = None, regions: set[str] | None = None,
                 industries: set[str] | None = None) -> None:
        market = scenario.market
        self.segment = Categorical(list(scenario.segments), segment_mix, segments)
        self.region = Categorical(list(market.regions), market.regions, regions)
        self.industry = Categorical(list(market.industries), market.industries, industries)


@mypyc_attr(acyclic=True, free_list_len=1)
class Lead:
    """One lead (an inbound MQL or an outbound prospect) moving through the funnel.

    A lead refers to nothing that can lead back to it — numbers, its block's meeting draws, a
    kept meeting plan of floats; its closer by id (``closer_rep``), not by reference — so the
    compiled build declares it *acyclic*: no header or tracking by Python's cycle collector.
    Freeing a tracked object unlinks it from the collector's list, which writes to the objects
    allocated just before and after it; for a lead freed weeks (of simulated time) after its
    creation those are cold, and in a large org that was 2–3% of the run. Give ``Lead`` a field
    that can hold a rep, a desk or a callable and that promise breaks (a leak, not a crash;
    ``tests/test_compiled.py`` checks that a finished replication is freed). The compiled class
    also keeps the last freed lead for the next one made (``free_list_len``): leads end about as
    often as they are created, and the reused one is still in cache.
    """

    # The attributes and their types: slots in Python, C fields in the compiled build (sim/compiled.py),
    # in that order. Small whole numbers are 32- and 16-bit fields there (i32, i16: plain ints in
    # Python), the wide ones last, so that a lead takes four cache lines instead of five: a large
    # org has thousands of leads in flight, and each step reads one that has gone cold.
    id: int
    index: int
    # --- generated from sim.eventlog.LEAD_RECORD by sim.model.engine.codegen (times); do not edit ---
    created_t: float
    first_touch_t: float
    connect_t: float
    sql_t: float
    handoff_t: float
    opportunity_t: float
    # --- end generated ---
    response_days: float
    dial_days: float
    w_start: float
    u_qualify: float
    u_sql: float
    u_leak: float
    u_handoff: float
    mrr_usd: float
    churn_budget: float
    win_odds: float
    """Odds multiplier of the deal's first meeting: the hand-off's, then times the closer's at opening."""
    plan: Any
    """The opportunity's (meeting times, pass probabilities, pass uniforms) where it cannot be
    rebuilt from the lead (a warm start's, or once reassigned); None otherwise."""
    meeting_block: Any
    """The meeting draws of the lead's block (a NumPy array): see :meth:`meeting_draws`."""
    dials_needed: i32
    dials_done: i32
    dev_rep: i32
    closer_rep: i32
    """The id of the closer holding the opportunity, or of its last one (-1: none yet); the
    desk finds the rep from it (:class:`~sim.model.closing.ClosingDesk`)."""
    token: i32
    meeting_row: i32
    """This lead's row in ``meeting_block``."""
    slot: i32
    """Where the lead is in the list that holds it (:func:`hold`)."""
    source: i16
    segment: i16
    region: i16
    industry: i16
    dev_team: i16
    closer_team: i16
    __slots__ = tuple(__annotations__)

    def __init__(self) -> None:
        # --- generated from sim.eventlog.LEAD_RECORD by sim.model.engine.codegen (__init__); do not edit ---
        self.first_touch_t = _NAN
        self.connect_t = _NAN
        self.sql_t = _NAN
        self.handoff_t = _NAN
        self.opportunity_t = _NAN
        # --- end generated ---
        self.dials_done = 0
        self.dev_rep = -1
        self.closer_rep = -1
        self.dev_team = -1
        self.closer_team = -1
        self.token = 0
        self.w_start = 0.0
        self.dial_days = 0.0
        self.win_odds = 1.0
        self.plan = None

    def meeting_draws(self) -> tuple[list[float], list[float]]:
        """(pass uniforms, gap uniforms) of the lead's potential meetings, drawn at creation: as
        many of each as the scenario's longest meeting chain."""
        draws = self.meeting_block[self.meeting_row].tolist()  # [pass uniforms | gap uniforms]: one conversion, not two
        half = len(draws) // 2
        return draws[:half], draws[half:]

    # --- generated from sim.eventlog.LEAD_RECORD by sim.model.engine.codegen (record_to); do not edit ---
    def record_to(self, records: LeadRecords, end_t: float, state: int, close_t: float = _NAN,
                  mrr_usd: float = 0.0) -> None:
        """Write the lead's record (``sim.eventlog.LEAD_RECORD``) to ``records``, field by field
        (:meth:`~sim.eventlog.LeadRecords.add`: no tuple in between, and in the compiled build no
        Python object either)."""
        records.add(
            self.id, self.source, self.segment, self.created_t, self.first_touch_t, self.connect_t, self.sql_t,
            self.handoff_t, self.opportunity_t, close_t, end_t, state, self.dials_done, mrr_usd, self.dev_rep,
            self.closer_rep, self.dev_team, self.closer_team, self.region, self.industry,
        )
    # --- end generated ---


class LeadFactory:
    """Creates the leads of one source with their latent draws.

    Parameters
    ----------
    scenario : Scenario
    streams : Streams
    source : Source
        Inbound MQLs or outbound prospects.
    segment_mix : dict
        Segment name → weight for this source.
    dials_to_connect : distribution
        Dials a lead of this source needs before it is reached.
    id_offset : int
        Lead ids of this source start here (ids are unique across sources).
    """

    def __init__(
        self,
        scenario: Scenario,
        streams: Streams,
        source: Source,
        segment_mix: dict[str, float],
        dials_to_connect: DistributionBase,
        id_offset: int,
        response_minutes: DistributionBase | None = None,
    ) -> None:
        self.scenario = scenario
        self.response_minutes = response_minutes
        self.source = int(source)
        self.prefix = {Source.INBOUND: "inbound", Source.OUTBOUND: "outbound"}.get(Source(source), "warm")
        self.streams = streams
        self.segments = [scenario.segments[name] for name in scenario.segments]
        self.segment_mix = segment_mix
        self.view = MarketView(scenario, segment_mix)
        self.meetings_used = max(seg.opportunity.meetings for seg in self.segments)
        """Meeting draws a lead keeps: the longest chain of any segment (of ``MAX_MEETINGS`` drawn)."""
        self.dials_to_connect = dials_to_connect
        self.id_offset = id_offset
        self.created = 0
        # The block's draws (row = the lead's place in its block). Compiled: one buffer of
        # little-endian doubles, a lead's _ROW_VALUES side by side, read as C numbers — no Python
        # object per draw to make, read and free. In Python: one list per attribute, as NumPy's
        # tolist makes them (a list read beats a call per value there). No tuple per lead either
        # way: its memory would have gone cold by the time the lead is made.
        self._rows = b""
        self._block_len = 0
        self._segment: list[int] = []
        self._dials: list[int] = []
        self._u_qualify: list[float] = []
        self._u_sql: list[float] = []
        self._u_leak: list[float] = []
        self._u_handoff: list[float] = []
        self._response_days_drawn: list[float] = []
        self._mrr: list[float] = []
        self._churn_budget: list[float] = []
        self._region: list[int] = []
        self._industry: list[int] = []
        self._generators: dict[str, np.random.Generator] = {}
        self._pos = 0

    def slice_view(self, segments: list[str] | None, regions: list[str] | None,
                   industries: list[str] | None) -> MarketView:
        """The view of a POD that owns a market slice (``None``: no restriction)."""
        return MarketView(self.scenario, self.segment_mix,
                          None if segments is None else set(segments),
                          None if regions is None else set(regions),
                          None if industries is None else set(industries))

    def _gen(self, name: str) -> np.random.Generator:
        """This source's stream ``name`` (looked up once per factory: a block asks for 13 of them)."""
        gen = self._generators.get(name)
        if gen is None:
            gen = self._generators[name] = self.streams.generator(f"{self.prefix}.{name}")
        return gen

    def _draw_block(self) -> None:
        n = BLOCK_SIZE
        u_segment = self._gen("segment").random(n)
        seg_idx = self.view.segment.pick_array(u_segment)
        # A lead needing more dials than any cadence allows is unreachable whatever the number:
        # capped, it fits the 32-bit field of the compiled build.
        dials_ppf = self.dials_to_connect.ppf(self._gen("dials").random(n))
        dials = np.clip(np.rint(dials_ppf), 1, MAX_ATTEMPTS + 1).astype(int)
        u_mrr = self._gen("deal_size").random(n)
        mrr = np.empty(n)
        for k, seg in enumerate(self.segments):
            mask = seg_idx == k
            if mask.any():
                mrr[mask] = np.maximum(0.0, seg.mrr_usd.ppf(u_mrr[mask]))
        u_region = self._gen("region").random(n)
        u_industry = self._gen("industry").random(n)
        columns = (
            seg_idx, dials, self._gen("qualify").random(n), self._gen("sql").random(n),
            self._gen("handoff_leak").random(n), self._gen("handoff_delay").random(n),
            self._response_days(self._gen("response").random(n)), mrr,
            self._gen("churn_budget").exponential(1.0, n),
            self.view.region.pick_array(u_region), self.view.industry.pick_array(u_industry),
        )
        if _COMPILED:  # small whole numbers are exact as doubles
            self._rows = np.column_stack(columns).astype("<f8").tobytes()
        else:
            (self._segment, self._dials, self._u_qualify, self._u_sql, self._u_leak, self._u_handoff,
             self._response_days_drawn, self._mrr, self._churn_budget, self._region,
             self._industry) = (column.tolist() for column in columns)
        self._block_len = n
        # The uniforms behind segment, deal size, region and industry stay in NumPy: only a POD
        # prospecting its own market slice maps them again (``create`` with a view).
        self._slice_uniforms = (u_segment, u_mrr, u_region, u_industry)
        # Meeting draws stay in NumPy (only the few leads that become opportunities read them), the
        # pass and gap uniforms side by side in one row per lead, as many as a chain can use. All
        # MAX_MEETINGS are drawn, so that the streams stay aligned whatever the scenario's chains.
        used = self.meetings_used
        self._meetings = np.concatenate((self._gen("meeting_pass").random((n, MAX_MEETINGS))[:, :used],
                                         self._gen("meeting_gaps").random((n, MAX_MEETINGS))[:, :used]), axis=1)
        self._pos = 0

    def _response_days(self, u: np.ndarray) -> np.ndarray:
        """Days from arrival until a rep can first respond (``inbound.response_minutes``; 0 without)."""
        if self.response_minutes is None:
            return np.zeros_like(u)
        return np.maximum(0.0, self.response_minutes.ppf(u)) / MINUTES_PER_DAY

    def create(self, t: float, view: MarketView | None = None) -> Lead:
        """The next lead of this source, created at time ``t`` (in ``view``'s market slice)."""
        if self._pos >= self._block_len:
            self._draw_block()
        row = self._pos
        self._pos = row + 1
        lead = Lead()
        if _COMPILED:
            rows = self._rows
            at: i64 = row * (8 * _ROW_VALUES)
            seg = int(read_f64_le(rows, at))
            lead.dials_needed = int(read_f64_le(rows, at + 8))
            lead.u_qualify = read_f64_le(rows, at + 16)
            lead.u_sql = read_f64_le(rows, at + 24)
            lead.u_leak = read_f64_le(rows, at + 32)
            lead.u_handoff = read_f64_le(rows, at + 40)
            lead.response_days = read_f64_le(rows, at + 48)
            mrr = read_f64_le(rows, at + 56)
            lead.churn_budget = read_f64_le(rows, at + 64)
            region = int(read_f64_le(rows, at + 72))
            industry = int(read_f64_le(rows, at + 80))
        else:
            seg = self._segment[row]
            lead.dials_needed = self._dials[row]
            lead.u_qualify = self._u_qualify[row]
            lead.u_sql = self._u_sql[row]
            lead.u_leak = self._u_leak[row]
            lead.u_handoff = self._u_handoff[row]
            lead.response_days = self._response_days_drawn[row]
            mrr = self._mrr[row]
            lead.churn_budget = self._churn_budget[row]
            region = self._region[row]
            industry = self._industry[row]
        if view is not None and view is not self.view:
            u_segment, u_mrr, u_region, u_industry = (float(u[row]) for u in self._slice_uniforms)
            sliced = view.segment.pick(u_segment)
            if sliced != seg:
                seg = sliced
                mrr = max(0.0, self.segments[seg].mrr_usd.ppf1(u_mrr))
            region = view.region.pick(u_region)
            industry = view.industry.pick(u_industry)
        lead.id = self.id_offset + self.created
        lead.index = self.created
        lead.source = self.source
        lead.segment = seg
        lead.region = region
        lead.industry = industry
        lead.created_t = t
        lead.mrr_usd = mrr
        lead.meeting_block = self._meetings
        lead.meeting_row = row
        self.created += 1
        return lead


def hold(leads: list[Lead], lead: Lead) -> None:
    """Put ``lead`` in ``leads`` — a rep's open leads, a desk's leads in transit — remembering where."""
    lead.slot = len(leads)
    leads.append(lead)


def release(leads: list[Lead], lead: Lead) -> None:
    """Take ``lead`` (held in ``leads``) out in constant time: the last lead takes its place.

    A set does the same, but it hashes into a table spread over memory that a large org no longer
    keeps in cache; the end of a short list, and the lead being released, are already there."""
    last = leads.pop()
    if last is not lead:
        slot = lead.slot
        leads[slot] = last
        last.slot = slot


def poisson_arrival_times(
    rng: np.random.Generator,
    monthly_rates: np.ndarray,
    days_per_month: float,
    to_work=None,
    from_work=None,
    month_starts: list[float] | None = None,
) -> np.ndarray:
    """Arrival times (days, sorted) of a Poisson process with a piecewise-constant monthly rate.

    With ``to_work``/``from_work`` (vectorised calendar maps) arrivals fall uniformly in
    *working* time, i.e. only during working hours. Month m spans ``month_starts[m]`` to
    ``month_starts[m + 1]`` (calendar months), or ``m × days_per_month`` onwards without them.
    """
    out = []
    for m, rate in enumerate(monthly_rates):
        count = rng.poisson(rate) if rate > 0 else 0
        if month_starts is not None:
            lo, hi = month_starts[m], month_starts[m + 1]
        else:
            lo, hi = m * days_per_month, (m + 1) * days_per_month
        if to_work is not None:
            w_lo, w_hi = float(to_work(np.asarray([lo]))[0]), float(to_work(np.asarray([hi]))[0])
            times = from_work(w_lo + (w_hi - w_lo) * rng.random(count))
            times = np.clip(times, lo, math.nextafter(hi, lo))
        else:
            times = lo + (hi - lo) * rng.random(count)
        out.append(np.sort(times))
    return np.concatenate(out) if out else np.empty(0)
