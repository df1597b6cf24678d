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

Contracts (``segments.<name>.contract.term_months`` > 1): such an account has no monthly hazard;
at each term end it renews or churns, by its own latent draws (a stream per account,
``accounts.contract``, three uniforms per renewal: renew, downsell, downsell size), with a
probability that falls with its owner's uncovered share. With an account-management role
(``customers.expanded_by``), renewals and expansion signals become work for the
:class:`~sim.model.account_management.AccountManagerDesk`: a renewal no manager started renews at
the uncovered probability, and an expansion signal is won only when a manager works it and its
meetings pass (latent uniforms from month-keyed streams, as above).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import simpy

from sim.eventlog import AccountEvent, EventLog, Source
from sim.model.account_management import AccountManagerDesk, ManagedItem
from sim.model.engine.repheap import RepHeap, rep_heap
from sim.model.leads import Lead
from sim.model.workforce import Rep, RolePool
from sim.rng import Streams
from sim.scenario import SegmentSpec
from sim.workcalendar import DAYS_PER_MONTH

_WARM: Final = int(Source.WARM_START)


class Accounts:
    """The customers of one replication and the pools of the role that manages accounts.

    The role that manages accounts (``customers.managed_by``: CSMs by default; its reps are the
    accounts' *owners*) may be any role with ``accounts_covered``. This object is the desk of each
    of its pools (one per team that has the role); an account stays with the pool it was given at
    signing (its POD's owners, or the pooled team).
    """

    def __init__(self, env: simpy.Environment, log: EventLog, streams: Streams, segments: list[SegmentSpec],
                 source_keys: list[int] | None = None) -> None:
        self.env = env
        self.source_keys: list[int] = [int(Source.INBOUND), int(Source.OUTBOUND)] if source_keys is None \
            else list(source_keys)
        """Per lead source (by index), the key of its accounts in the account streams; a warm-start
        account's key is ``Source.WARM_START``."""
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
        """Per account, the key of its lead's source in the account streams (``source_keys``)."""
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
        self._contracted = np.array([s.contract.contracted for s in seg], dtype=bool)
        self._any_contract = bool(np.any(self._contracted))
        self._term_days = [s.contract.term_months * DAYS_PER_MONTH for s in seg]
        self._win_p = [float(np.prod(s.expansion.pass_probabilities())) for s in seg]
        self.manager: AccountManagerDesk | None = None
        """The account managers (``customers.expanded_by``) who work expansion opportunities and
        renewals; None: expansion happens by itself and renewals are worked by the owner."""
        self.contract_rng: dict[int, np.random.Generator] = {}
        """Per contracted account, its stream of renewal uniforms (``accounts.contract``)."""
        self.renewal_t: dict[int, float] = {}
        """Per contracted account, the end of its current term."""

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
        self.source[account] = _WARM if lead.source == _WARM else self.source_keys[lead.source_index]
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
        if self._any_contract and self._contracted[lead.segment]:
            self._sign_contract(account, t, installed)

    # ------------------------------------------------------------------ contracts and renewals

    def _sign_contract(self, account: int, now: float, installed: bool) -> None:
        """Start ``account``'s contract: its renewal stream and the end of its current term — a
        term from now for a deal won now; for an installed account, a uniform share of a term
        from now (its first draw), so that an installed base signed over the past renews spread
        over the coming term rather than all on one day."""
        rng = self.streams.fresh("accounts.contract", int(self.source[account]), int(self.lead_index[account]))
        self.contract_rng[account] = rng
        term = self._term_days[int(self.segment[account])]
        self.renewal_t[account] = now + (float(rng.random()) * term if installed else term)
        self._schedule_renewal(account)

    def _schedule_renewal(self, account: int) -> None:
        """The renewal of ``account``'s current term: worked by a manager from ``renewal_lead_days``
        before it, or decided at the term end."""
        end = self.renewal_t[account]
        timeline = self.env.timeline  # type: ignore[attr-defined]
        if self.manager is not None:
            lead_days = self.segments[int(self.segment[account])].contract.renewal_lead_days
            timeline.call_at(max(self.env.now, end - lead_days), self._request_renewal, account)
        else:
            timeline.call_at(end, self._renew, account, True)

    def _request_renewal(self, account: int) -> None:
        manager = self.manager
        if manager is None or not self.active[account]:
            return
        now = self.env.now
        manager.request(ManagedItem(account, True, now, self.renewal_t[account], 0.0,
                                    on_close=self._renewal_closed))

    def _renewal_closed(self, item: ManagedItem, worked: bool) -> None:
        self._renew(item.account, worked)

    def _renew(self, account: int, worked: bool) -> None:
        """The term end of ``account``: it renews — perhaps downselling, with the price uplift — and
        starts its next term, or churns. ``worked``: False when no manager worked the renewal."""
        if not self.active[account]:
            return
        seg = int(self.segment[account])
        contract = self.segments[seg].contract
        u_renew, u_down, u_size = (float(u) for u in self.contract_rng[account].random(3))
        uncovered = 1.0 if not worked else float(self._uncovered_share(np.array([account]))[0])
        p = contract.renewal_probability - (contract.renewal_probability
                                            - contract.uncovered_renewal_probability) * uncovered
        now = self.env.now
        lead_id = self.lead_ids[account]
        mrr = self.mrr[account]
        if u_renew >= p:
            self.log.accounts.append((now, int(AccountEvent.RENEWAL_LOST), lead_id, seg, mrr))
            self._churn(account, now)
            return
        self.log.accounts.append((now, int(AccountEvent.RENEWAL), lead_id, seg, mrr))
        if u_down < contract.downsell_probability:
            given_up = min(mrr, mrr * max(0.0, contract.downsell_fraction.ppf1(u_size)))
            if given_up > 0:
                mrr -= given_up
                self.log.accounts.append((now, int(AccountEvent.CONTRACTION), lead_id, seg, given_up))
        if contract.price_uplift > 0 and mrr > 0:
            uplift = mrr * contract.price_uplift
            mrr += uplift
            self.log.accounts.append((now, int(AccountEvent.EXPANSION), lead_id, seg, uplift))
        self.mrr[account] = mrr
        self.renewal_t[account] = self.renewal_t[account] + self._term_days[seg]
        self._schedule_renewal(account)

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
        if self._any_contract:  # a contract does not churn before its term ends (its renewal decides)
            h = np.where(self._contracted[seg], 0.0, h)
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

    def _keyed_uniforms(self, first: str, second: str, month: int, source: np.ndarray,
                        lead_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each account's uniform of ``month`` from the streams ``first`` and ``second``, keyed by
        (source, month) and indexed by the account's lead index within its source: an account's
        draw does not depend on which other accounts exist (common random numbers)."""
        u_first = np.empty(source.size)
        u_second = np.empty(source.size)
        for src in dict.fromkeys((*self.source_keys, _WARM)):
            mask = source == src
            if not mask.any():
                continue
            size = int(lead_index[mask].max()) + 1
            u_first[mask] = self.streams.fresh(first, src, month).random(size)[lead_index[mask]]
            u_second[mask] = self.streams.fresh(second, src, month).random(size)[lead_index[mask]]
        return u_first, u_second

    def _expand(self, month: int, idx: np.ndarray, seg: np.ndarray, t: float) -> None:
        if idx.size == 0 or not np.any(self._exp_p[seg] > 0):
            return
        source = self.source[idx]
        lead_index = self.lead_index[idx]
        u_event, u_size = self._keyed_uniforms("accounts.expansion", "accounts.expansion_size", month, source,
                                               lead_index)
        expands = u_event < self._exp_p[seg]
        if self.manager is not None:
            self._signal(month, idx, seg, source, lead_index, expands, u_size, t)
            return
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

    def _signal(self, month: int, idx: np.ndarray, seg: np.ndarray, source: np.ndarray, lead_index: np.ndarray,
                signals: np.ndarray, u_size: np.ndarray, t: float) -> None:
        """Expansion signals become opportunities for the account managers: each holds a manager
        for its ``cycle_days`` and is won by its own latent draw (streams
        ``accounts.expansion_cycle`` and ``accounts.expansion_pass``, keyed like the signals)."""
        manager = self.manager
        if manager is None or not np.any(signals):
            return
        u_cycle, u_pass = self._keyed_uniforms("accounts.expansion_cycle", "accounts.expansion_pass", month, source,
                                               lead_index)
        for j in np.flatnonzero(signals):
            account = int(idx[j])
            spec = self.segments[int(seg[j])].expansion
            fraction = max(0.0, spec.mrr_fraction.ppf1(float(u_size[j])))
            item = ManagedItem(account, False, t, t + spec.stale_after_days,
                               max(0.0, spec.cycle_days.ppf1(float(u_cycle[j]))),
                               potential_mrr_usd=self.mrr[account] * fraction, on_close=self._expansion_closed,
                               u_outcome=float(u_pass[j]), fraction=fraction)
            manager.request(item)

    def _expansion_closed(self, item: ManagedItem, worked: bool) -> None:
        """An expansion opportunity ends: won when a manager worked it, the account is still a
        customer and its meetings passed."""
        account = item.account
        if not worked or not self.active[account]:
            return
        seg = int(self.segment[account])
        if item.u_outcome >= self._win_p[seg]:
            return
        amount = self.mrr[account] * item.fraction
        if amount <= 0:
            return
        self.mrr[account] += amount
        self.log.accounts.append((self.env.now, int(AccountEvent.EXPANSION), self.lead_ids[account], seg, amount))
