"""Leads and prospects, and the latent draws each carries from its creation.

This module owns the *market*: what belongs to a lead is drawn when it is created, from
streams named after the source (``inbound.*``, ``outbound.*``), in creation order and in
fixed-size blocks (DESIGN.md §2, rule 3). The k-th MQL of a replication therefore has the
same segment, dials-to-connect, deal size, "would qualify" / "would win" uniforms and churn
budget in every scenario run with the same seed, whatever the org chart does to it.
"""

from __future__ import annotations

import math

import numpy as np

from sim.dists import _DistBase
from sim.eventlog import NAN, Source
from sim.rng import Streams
from sim.scenario import MAX_MEETINGS, Scenario

BLOCK_SIZE = 1024
"""Leads drawn per block; fixed so that draws never depend on how many leads a run needs."""


class Lead:
    """One lead (an inbound MQL or an outbound prospect) moving through the funnel."""

    __slots__ = (
        "churn_budget",
        "closer",
        "closer_rep",
        "connect_t",
        "created_t",
        "dev_rep",
        "dials_done",
        "dials_needed",
        "first_touch_t",
        "handoff_t",
        "id",
        "index",
        "meetings",
        "mrr_usd",
        "opportunity_t",
        "segment",
        "source",
        "sql_t",
        "token",
        "u_handoff",
        "u_leak",
        "u_qualify",
        "u_response",
        "u_sql",
        "w_start",
    )

    def __init__(self) -> None:
        self.first_touch_t = NAN
        self.connect_t = NAN
        self.sql_t = NAN
        self.handoff_t = NAN
        self.opportunity_t = NAN
        self.dials_done = 0
        self.dev_rep = -1
        self.closer_rep = -1
        self.closer = None
        self.token = 0
        self.w_start = 0.0

    def meeting_draws(self) -> tuple[list[float], list[float]]:
        """(pass uniforms, gap days) of the lead's potential meetings, drawn at creation."""
        (u_pass, gaps), row = self.meetings
        return u_pass[row].tolist(), gaps[row].tolist()

    def record(self, end_t: float, state: int, close_t: float = NAN, mrr_usd: float = 0.0) -> tuple:
        """The lead's record (``sim.eventlog.LEAD_FIELDS``)."""
        return (
            self.id, self.source, self.segment, self.created_t, self.first_touch_t,
            self.connect_t, self.sql_t, self.handoff_t, self.opportunity_t, close_t, end_t,
            state, self.dials_done, mrr_usd, self.dev_rep, self.closer_rep,
        )


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
        dials_to_connect: _DistBase,
        id_offset: int,
    ) -> None:
        self.source = int(source)
        self.prefix = "inbound" if source == Source.INBOUND else "outbound"
        self.streams = streams
        self.segment_names = list(scenario.segments)
        self.segments = [scenario.segments[name] for name in self.segment_names]
        mix_names = list(segment_mix)
        weights = np.array([segment_mix[n] for n in mix_names], dtype=float)
        self.mix_segment_index = np.array([self.segment_names.index(n) for n in mix_names])
        self.mix_cdf = np.cumsum(weights) / weights.sum()
        self.dials_to_connect = dials_to_connect
        self.id_offset = id_offset
        self.created = 0
        self._block: list[tuple] = []
        self._pos = 0

    def _gen(self, name: str) -> np.random.Generator:
        return self.streams.generator(f"{self.prefix}.{name}")

    def _draw_block(self) -> None:
        n = BLOCK_SIZE
        seg_idx = self.mix_segment_index[
            np.minimum(np.searchsorted(self.mix_cdf, self._gen("segment").random(n), side="right"),
                       len(self.mix_cdf) - 1)
        ]
        dials = np.maximum(1, np.rint(self.dials_to_connect.ppf(self._gen("dials").random(n)))).astype(int)
        u_mrr = self._gen("deal_size").random(n)
        u_gap = self._gen("meeting_gaps").random((n, MAX_MEETINGS))
        mrr = np.empty(n)
        gaps = np.empty((n, MAX_MEETINGS))
        for k, seg in enumerate(self.segments):
            mask = seg_idx == k
            if mask.any():
                mrr[mask] = np.maximum(0.0, seg.mrr_usd.ppf(u_mrr[mask]))
                gaps[mask] = np.maximum(0.0, seg.opportunity.gap_days.ppf(u_gap[mask]))
        columns = (
            seg_idx.tolist(),
            dials.tolist(),
            self._gen("qualify").random(n).tolist(),
            self._gen("sql").random(n).tolist(),
            self._gen("handoff_leak").random(n).tolist(),
            self._gen("handoff_delay").random(n).tolist(),
            self._gen("response").random(n).tolist(),
            mrr.tolist(),
            self._gen("churn_budget").exponential(1.0, n).tolist(),
        )
        self._block = list(zip(*columns, strict=True))
        # Meeting draws stay in NumPy: only the few leads that become opportunities read them.
        self._meetings = (self._gen("meeting_pass").random((n, MAX_MEETINGS)), gaps)
        self._pos = 0

    def create(self, t: float) -> Lead:
        """The next lead of this source, created at time ``t``."""
        if self._pos >= len(self._block):
            self._draw_block()
        (seg, dials, u_q, u_sql, u_leak, u_handoff, u_response, mrr, budget) = self._block[self._pos]
        row = self._pos
        self._pos += 1
        lead = Lead()
        lead.id = self.id_offset + self.created
        lead.index = self.created
        lead.source = self.source
        lead.segment = seg
        lead.created_t = t
        lead.dials_needed = dials
        lead.u_qualify = u_q
        lead.u_sql = u_sql
        lead.u_leak = u_leak
        lead.u_handoff = u_handoff
        lead.u_response = u_response
        lead.mrr_usd = mrr
        lead.churn_budget = budget
        lead.meetings = (self._meetings, row)
        self.created += 1
        return lead


def poisson_arrival_times(
    rng: np.random.Generator,
    monthly_rates: np.ndarray,
    days_per_month: float,
    to_work=None,
    from_work=None,
) -> np.ndarray:
    """Arrival times (days, sorted) of a Poisson process with a piecewise-constant monthly rate.

    With ``to_work``/``from_work`` (vectorised calendar maps) arrivals fall uniformly in
    *working* time, i.e. only during working hours.
    """
    out = []
    for m, rate in enumerate(monthly_rates):
        count = rng.poisson(rate) if rate > 0 else 0
        lo, hi = m * days_per_month, (m + 1) * days_per_month
        if to_work is not None:
            w_lo, w_hi = float(to_work(np.asarray([lo]))[0]), float(to_work(np.asarray([hi]))[0])
            times = from_work(w_lo + (w_hi - w_lo) * rng.random(count))
            times = np.clip(times, lo, math.nextafter(hi, lo))
        else:
            times = lo + (hi - lo) * rng.random(count)
        out.append(np.sort(times))
    return np.concatenate(out) if out else np.empty(0)
