"""Account managers: a pooled role that works expansion opportunities and contract renewals.

This module owns the desk of the role named by ``customers.expanded_by`` (the job
``expand_and_renew``). Work reaches it from the accounts desk (:mod:`sim.model.accounts`):

* an **expansion opportunity**, when an account gives an expansion signal (the segment's
  ``expansion.monthly_probability``, drawn at the month's end): it waits for a manager with room,
  first come first served, and is lost when none has had room for ``expansion.stale_after_days``;
  started, it holds the manager for its ``cycle_days`` and then closes — won or lost by the
  account's latent draw (the accounts desk decides, :meth:`Accounts.close_expansion`);
* a **renewal**, ``contract.renewal_lead_days`` before a contract's term end: it waits the same way
  until the term end at the latest, and holds the manager until then. A renewal no manager
  started is *unworked*: it renews at the uncovered probability.

Every rep of the role, in any team, is one pool (at most ``open_expansions`` × productivity items
at once each). The outcomes are the accounts' own latent draws (common random numbers); how long
an item holds a manager is drawn from the account's keyed streams, so that more managers change
only *when* work starts, never what it would bring.

Facts for the metrics (levels of the role's first pool, written by :meth:`close_month`): the
pool's ``capacity`` and ``busy`` levels (``utilization.<role>``); per month the items started and
lost unworked (``am_started``, ``am_unworked``); and at each month's end the open expansion
pipeline: opportunities waiting or in progress and their potential MRR (``expansion_pipeline``,
``expansion_pipeline_usd``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from sim.model.engine.calendar import Environment
from sim.model.pooled_desk import PooledRoleDesk
from sim.model.workforce import Rep


@dataclass(eq=False)
class ManagedItem:
    """One piece of account-management work: an expansion opportunity or a renewal."""

    account: int
    renewal: bool
    requested_t: float
    deadline_t: float
    """Not started by then: a stale expansion is lost; an unworked renewal is decided as such."""
    hold_days: float
    """Expansion: days from start to close. Renewal: ignored (held until ``deadline_t``)."""
    potential_mrr_usd: float = 0.0
    """Expansion: the MRR it would add at today's MRR (for the pipeline level)."""
    u_outcome: float = 0.0
    """Expansion: its latent uniform; won when below the product of its meetings' pass probabilities."""
    fraction: float = 0.0
    """Expansion: the share of the account's MRR it adds when won."""
    on_close: Callable[[ManagedItem, bool], None] | None = None
    """Called when the item ends: (item, worked) — worked False when it was never started."""
    started: bool = False
    done: bool = False
    rep: Rep | None = field(default=None, repr=False)


class AccountManagerDesk(PooledRoleDesk):
    """The account managers of one role, all teams together, and the work waiting for them."""

    capacity_field = "open_expansions"

    def __init__(self, env: Environment, role: str) -> None:
        super().__init__(env, role)
        self.waiting: deque[ManagedItem] = deque()
        self.open_expansions: set[ManagedItem] = set()
        """Expansion opportunities waiting or in progress (the pipeline)."""
        self.started = 0
        self.unworked = 0

    # ------------------------------------------------------------------ flow

    def request(self, item: ManagedItem) -> None:
        """``item`` needs a manager from now: it starts at once if one has room, else waits (first
        come first served) until its deadline."""
        if not item.renewal:
            self.open_expansions.add(item)
        self.timeline.call_at(item.deadline_t, self._deadline, item)
        if not self.waiting:
            rep = self.room.best()
            if rep is not None:
                self._start(rep, item)
                return
        self.waiting.append(item)

    def _start(self, rep: Rep, item: ManagedItem) -> None:
        now = self.timeline.now
        item.started = True
        item.rep = rep
        self.started += 1
        rep.load += 1
        rep.pool.busy.add(now, 1)
        self._touch(rep)
        if not item.renewal:
            self.timeline.call_at(now + max(0.0, item.hold_days), self._finish, item)

    def _deadline(self, item: ManagedItem) -> None:
        """A renewal's term end (released, worked or not), or an expansion's stale date."""
        if item.done:
            return
        if item.renewal:
            self._end(item, worked=item.started)
        elif not item.started:
            self._end(item, worked=False)

    def _finish(self, item: ManagedItem) -> None:
        if not item.done:
            self._end(item, worked=True)

    def _end(self, item: ManagedItem, worked: bool) -> None:
        item.done = True
        self.open_expansions.discard(item)
        if item.started:
            rep = item.rep
            if rep is not None and rep.id in self.reps and rep.load > 0:
                rep.load -= 1
                rep.pool.busy.add(self.timeline.now, -1)
                self._touch(rep)
        else:
            self.unworked += 1
        if item.on_close is not None:
            item.on_close(item, worked)
        self._serve()

    def _serve(self) -> None:
        """Start waiting items, oldest first, while a rep has room (ended items are dropped)."""
        while self.waiting:
            if self.waiting[0].done:
                self.waiting.popleft()
                continue
            rep = self.room.best()
            if rep is None:
                return
            self._start(rep, self.waiting.popleft())

    # ------------------------------------------------------------------ month end and end of run

    def close_month(self) -> tuple[int, int, int, float]:
        """(items started, items ended unworked) since the last call, and the open expansion
        pipeline now: (opportunities, their potential MRR)."""
        out = (self.started, self.unworked, len(self.open_expansions),
               sum(item.potential_mrr_usd for item in self.open_expansions))
        self.started, self.unworked = 0, 0
        return out

    def backlog(self) -> int:
        return sum(1 for item in self.waiting if not item.done)

    def finalize(self, t_end: float) -> None:
        """Work still open at the horizon stays open (no record: the accounts are the record)."""
        self.waiting.clear()
