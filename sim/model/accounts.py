"""Customers: account books, churn and expansion, handled a month at a time with NumPy.

This module owns the installed base. A won deal becomes a customer with the MRR drawn at
the lead's creation and a latent churn budget E ~ Exp(1). Each month, every active account
accumulates hazard H += -ln(1 - h) × exposure, where the monthly churn probability h is the
segment's rate × the onboarding multiplier (during the first ``onboarding_months``) × a
coverage multiplier (the share of its owner's book beyond the owner's ramped coverage raises the
hazard up to ``uncovered_multiplier``). The account churns when H reaches E, at the exact
instant inside the month where the piecewise-constant hazard crosses it (no event per
account per month: docs/developer/performance.md#fewer-events). Expansion draws come from
month-keyed streams indexed by the lead, so the same account makes the same draw in every
scenario.
"""

from __future__ import annotations

import numpy as np
import simpy

from sim.eventlog import AccountEvent, EventLog, Source
from sim.model.engine.repheap import RepHeap, rep_heap
from sim.model.leads import Lead
from sim.model.workforce import Rep, RolePool
from sim.rng import Streams
from sim.scenario import SegmentSpec
from sim.workcalendar import DAYS_PER_MONTH


class Accounts:
    """The customers of one replication and the pools of the role that manages accounts.

    The role that manages accounts (``customers.managed_by``: CSMs by default; its reps are the
    accounts' *owners*) may be any role with ``accounts_covered``. This object is the desk of each
    of its pools (one per team that has the role); an account stays with the pool it was given at
    signing (its POD's owners, or the pooled team).
    """

    def __init__(self, env: simpy.Environment, log: EventLog, streams: Streams, segments: list[SegmentSpec]) -> None:
        self.env = env
        self.log = log
        self.streams = streams
        self.segments = segments
        # Parallel per-account columns (index = account number). What the month step reads for
        # every account is in NumPy arrays, grown by doubling: read as arrays, where converting
        # lists of Python numbers each month cost a visit to every number's object — spread over
        # memory in a large org. What is read one account at a time stays in lists.
        self.lead_ids: list[int] = []
        self.mrr: list[float] = []
        self.lead_index = np.zeros(64, dtype=np.int64)
        self.source = np.zeros(64, dtype=np.int64)
        self.segment = np.zeros(64, dtype=np.int64)
        self.won_t = np.zeros(64)
        self.budget = np.zeros(64)
        self.hazard = np.zeros(64)
        """Accumulated churn hazard per account (the month step updates it in one vectorised assignment)."""
        self.active = np.zeros(64, dtype=bool)
        """Whether each account is still a customer."""
        self.owner_slot = np.full(64, -1, dtype=np.int64)
        """Per account, its owner's place in ``owners`` (-1: none; :meth:`_owner_of`). An array,
        so that the month step gathers every account's owner at once."""
        self.owners: list[Rep] = []
        """Every owner (a rep of the role that manages accounts) that joined a pool of this desk, in order."""
        self._slot_of: dict[int, int] = {}
        """Rep id → place in ``owners``."""
        self.pool_of: list[RolePool | None] = []
        self.churn_multiplier = np.ones(64)
        """Per account, its POD's churn hazard multiplier (``org.pod_effects``; 1.0 elsewhere)."""
        self._pod_churn = False
        """Whether any account has a churn multiplier other than 1 (else the month step skips them)."""
        self.orphans: dict[int, set[int]] = {}
        """Accounts of a pool left without an owner (vacancy), by pool index."""
        self.books: dict[int, RepHeap] = {}
        """Owners of each pool (by pool index), least loaded relative to coverage first."""
        seg = segments
        self._rate = np.array([s.churn.monthly_rate for s in seg])
        self._onb_months = np.array([s.churn.onboarding_months for s in seg], dtype=float)
        self._onb_mult = np.array([s.churn.onboarding_multiplier for s in seg])
        self._unc_mult = np.array([s.churn.uncovered_multiplier for s in seg])
        self._exp_p = np.array([s.expansion.monthly_probability for s in seg])

    # ------------------------------------------------------------------ desk protocol

    def attach(self, pool: RolePool) -> None:
        """Look after the accounts given to ``pool`` (the role that manages accounts, in one team)."""
        pool.desk = self

    def _capacity(self, rep: Rep) -> float:
        return (rep.pool.spec.accounts_covered or 0.0) * rep.productivity

    def _touch(self, rep: Rep) -> None:
        """Re-rank an owner whose book or coverage changed."""
        heap = self.books.get(rep.pool.pool_index)
        if heap is None:
            heap = self.books[rep.pool.pool_index] = rep_heap()
        if rep.active:
            heap.update(rep, (rep.load + 1) / rep.capacity if rep.capacity > 0 else np.inf)
        else:
            heap.remove(rep)

    def rep_joined(self, rep: Rep) -> None:
        self._slot_of[rep.id] = len(self.owners)
        self.owners.append(rep)
        rep.capacity = self._capacity(rep)
        rep.pool.capacity.add(self.env.now, rep.capacity)
        self._touch(rep)
        waiting = self.orphans.pop(rep.pool.pool_index, set())
        for account in sorted(waiting):  # a new owner takes over accounts left without one
            self._assign(account, rep)

    def productivity_changed(self, rep: Rep) -> None:
        new = self._capacity(rep)
        rep.pool.capacity.add(self.env.now, new - rep.capacity)
        rep.capacity = new
        self._touch(rep)

    def rep_leaving(self, rep: Rep, lose: bool = False) -> None:
        """The leaving owner's book is spread over the pool's remaining owners, least loaded first
        — or, with ``lose``, those accounts churn now."""
        pool = rep.pool
        pool.capacity.add(self.env.now, -rep.capacity)
        accounts = sorted(rep.items)
        pool.busy.add(self.env.now, -len(accounts))
        rep.items.clear()
        rep.load = 0
        self._touch(rep)  # inactive: leaves the ranking
        for account in accounts:
            if lose:
                self.owner_slot[account] = -1
                self._churn(account, self.env.now)
                continue
            target = self._least_loaded(pool)
            if target is not None:
                self._assign(account, target)
            else:
                self.owner_slot[account] = -1
                self.orphans.setdefault(pool.pool_index, set()).add(account)

    def move_owner(self, rep: Rep, old: RolePool, keep_book: bool) -> list[int]:
        """A reorg moved ``rep`` (already in its new pool) out of ``old``: its book follows it
        (``keep_book``), or is handed back (returned, by account) to be spread over its new team."""
        now = self.env.now
        old.capacity.add(now, -rep.capacity)
        old.busy.add(now, -rep.load)
        heap = self.books.get(old.pool_index)
        if heap is not None:
            heap.remove(rep)
        accounts = sorted(rep.items)
        if not keep_book:
            for account in accounts:
                self.owner_slot[account] = -1
            rep.items.clear()
            rep.load = 0
        rep.capacity = self._capacity(rep)
        rep.pool.capacity.add(now, rep.capacity)
        rep.pool.busy.add(now, rep.load)
        for account in rep.items:
            self._set_pool(account, rep.pool)
        self._touch(rep)
        return [] if keep_book else accounts

    def place(self, account: int, pool: RolePool) -> None:
        """An account a reorg moved to ``pool``: to its least-loaded owner, or waiting for one."""
        self._set_pool(account, pool)
        owner = self._least_loaded(pool)
        if owner is not None:
            self._assign(account, owner)
        else:
            self.owner_slot[account] = -1
            self.orphans.setdefault(pool.pool_index, set()).add(account)

    def _assign(self, account: int, rep: Rep) -> None:
        self.owner_slot[account] = self._slot_of[rep.id]
        rep.items.add(account)
        rep.load += 1
        rep.pool.busy.add(self.env.now, 1)
        self._touch(rep)

    def _owner_of(self, account: int) -> Rep | None:
        """The owner of ``account`` (None: none)."""
        slot = int(self.owner_slot[account])
        return self.owners[slot] if slot >= 0 else None

    def _least_loaded(self, pool: RolePool | None) -> Rep | None:
        if pool is None or not pool.reps:
            return None
        heap = self.books.get(pool.pool_index)
        return heap.best() if heap is not None else None

    # ------------------------------------------------------------------ flow

    def add_customer(self, lead: Lead, t: float, pool: RolePool | None, signed_t: float | None = None,
                     installed: bool = False) -> None:
        """A won deal becomes an account of ``pool`` (None: nobody looks after it).
        ``installed`` marks the installed base of a warm start, signed at ``signed_t``."""
        account = len(self.lead_ids)
        if account == len(self.active):
            self._grow()
        self.lead_ids.append(lead.id)
        self.mrr.append(lead.mrr_usd)
        self.lead_index[account] = lead.index
        self.source[account] = lead.source
        self.segment[account] = lead.segment
        self.won_t[account] = t if signed_t is None else signed_t
        self.budget[account] = lead.churn_budget
        self.active[account] = True
        self.pool_of.append(pool)
        if pool is not None and pool.churn_multiplier != 1.0:
            self._set_pool(account, pool)
        owner = self._least_loaded(pool)
        if owner is not None:
            self._assign(account, owner)
        elif pool is not None:
            self.orphans.setdefault(pool.pool_index, set()).add(account)
        kind = AccountEvent.INSTALLED if installed else AccountEvent.NEW
        self.log.accounts.append((t, int(kind), lead.id, lead.segment, lead.mrr_usd))

    def _grow(self) -> None:
        """Double the room of the NumPy columns."""
        self.lead_index = np.concatenate((self.lead_index, np.zeros_like(self.lead_index)))
        self.source = np.concatenate((self.source, np.zeros_like(self.source)))
        self.segment = np.concatenate((self.segment, np.zeros_like(self.segment)))
        self.won_t = np.concatenate((self.won_t, np.zeros_like(self.won_t)))
        self.budget = np.concatenate((self.budget, np.zeros_like(self.budget)))
        self.hazard = np.concatenate((self.hazard, np.zeros_like(self.hazard)))
        self.active = np.concatenate((self.active, np.zeros_like(self.active)))
        self.owner_slot = np.concatenate((self.owner_slot, np.full_like(self.owner_slot, -1)))
        self.churn_multiplier = np.concatenate((self.churn_multiplier, np.ones_like(self.churn_multiplier)))

    def _set_pool(self, account: int, pool: RolePool | None) -> None:
        """Record ``account``'s pool (and so its POD's churn multiplier)."""
        self.pool_of[account] = pool
        multiplier = pool.churn_multiplier if pool is not None else 1.0
        self.churn_multiplier[account] = multiplier
        if multiplier != 1.0:
            self._pod_churn = True

    def month_step(self, month: int, t_start: float, t_end: float) -> None:
        """Churn and expansion of month ``month`` (1-based) spanning [t_start, t_end)."""
        active_idx = np.flatnonzero(self.active[:len(self.lead_ids)])
        if active_idx.size == 0:
            return
        seg = self.segment[active_idx]
        won_t = self.won_t[active_idx]
        budget = self.budget[active_idx]
        hazard = self.hazard[active_idx]

        age_months_at_start = np.maximum(t_start - won_t, 0.0) / DAYS_PER_MONTH
        onboarding = age_months_at_start < self._onb_months[seg]
        uncovered = self._uncovered_share(active_idx)
        h = self._rate[seg] * np.where(onboarding, self._onb_mult[seg], 1.0)
        h = h * (1.0 + (self._unc_mult[seg] - 1.0) * uncovered)
        h = np.clip(h, 0.0, 1.0)
        with np.errstate(divide="ignore"):
            intensity = -np.log1p(-h)  # per month
        if self._pod_churn:
            intensity = intensity * self.churn_multiplier[active_idx]
        exposure_start = np.maximum(t_start, np.maximum(won_t, 0.0))
        exposure_months = (t_end - exposure_start) / DAYS_PER_MONTH
        new_hazard = hazard + intensity * exposure_months
        churn = new_hazard >= budget
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            churn_t = exposure_start + np.where(
                intensity > 0, (budget - hazard) / intensity * DAYS_PER_MONTH, 0.0
            )
        last_instant = np.nextafter(t_end, -np.inf)  # events of this month stay in this month
        churn_t = np.clip(churn_t, exposure_start, last_instant)

        for j in np.flatnonzero(churn):
            account = int(active_idx[j])
            self._churn(account, float(churn_t[j]))
        survivors = ~churn
        self.hazard[active_idx[survivors]] = new_hazard[survivors]
        self._expand(month, active_idx[survivors], seg[survivors], float(last_instant))

    def _uncovered_share(self, idx: np.ndarray) -> np.ndarray:
        """Per account of ``idx``, the share of its owner's book beyond the owner's coverage (1
        without an owner).

        Computed once per owner and gathered through ``owner_slot``, not once per account: a large
        org has tens of thousands of accounts and a few dozen owners, and a loop over the accounts
        visits an object per account, spread over memory."""
        per_owner = [max(0.0, 1.0 - rep.capacity / rep.load) if rep.load > 0 else 1.0 for rep in self.owners]
        per_owner.append(1.0)  # slot -1: no owner
        return np.array(per_owner)[self.owner_slot[idx]]

    def _churn(self, account: int, t: float) -> None:
        self.active[account] = False
        self.log.accounts.append(
            (t, int(AccountEvent.CHURN), self.lead_ids[account], int(self.segment[account]), self.mrr[account])
        )
        rep = self._owner_of(account)
        if rep is not None:
            rep.items.discard(account)
            rep.load -= 1
            rep.pool.busy.add(self.env.now, -1)  # levels move at the month step
            self._touch(rep)
        else:
            pool = self.pool_of[account]
            if pool is not None:
                self.orphans.get(pool.pool_index, set()).discard(account)

    def _expand(self, month: int, idx: np.ndarray, seg: np.ndarray, t: float) -> None:
        if idx.size == 0 or not np.any(self._exp_p[seg] > 0):
            return
        source = self.source[idx]
        lead_index = self.lead_index[idx]
        u_event = np.empty(idx.size)
        u_size = np.empty(idx.size)
        for src in (Source.INBOUND, Source.OUTBOUND, Source.WARM_START):
            mask = source == int(src)
            if not mask.any():
                continue
            size = int(lead_index[mask].max()) + 1
            u_event[mask] = self.streams.fresh("accounts.expansion", int(src), month).random(size)[lead_index[mask]]
            u_size[mask] = self.streams.fresh("accounts.expansion_size", int(src), month).random(size)[lead_index[mask]]
        expands = u_event < self._exp_p[seg]
        for j in np.flatnonzero(expands):
            account = int(idx[j])
            spec = self.segments[int(seg[j])].expansion
            amount = self.mrr[account] * max(0.0, spec.mrr_fraction.ppf1(float(u_size[j])))
            if amount <= 0:
                continue
            self.mrr[account] += amount
            self.log.accounts.append(
                (t, int(AccountEvent.EXPANSION), self.lead_ids[account], int(self.segment[account]), amount)
            )
