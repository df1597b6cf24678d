"""``salesim synth``: one simulated run written as a CRM export.

This module owns the translation of one replication's records (:class:`sim.eventlog.EventLog`)
into the tables of :mod:`sim.calibration.crmformat`: every lead, every call attempt, every
opportunity and its stage changes, every account with its MRR changes, every person. It adds no
randomness of its own: call times are spread evenly between a lead's first touch and its last
call, and the outcome of each call follows from the lead's recorded dials (only the last call of
a reached lead connects), so the export is a pure function of (scenario, seed).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration.crmformat import CLOSED_LOST, CLOSED_WON, EXPORT_META, TABLES
from sim.eventlog import AccountEvent, EventLog, LeadState, RepKind, Source, WorkforceEvent
from sim.scenario import Scenario
from sim.workcalendar import DAYS_PER_MONTH

UNDATED_START: dt.date = dt.date(2024, 1, 1)
"""Day 0 of a scenario without ``start_date`` (a Monday, as the undated calendar assumes)."""

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


def day_zero(scenario: Scenario) -> pd.Timestamp:
    """The calendar moment of simulated day 0."""
    return pd.Timestamp(scenario.start_date or UNDATED_START)


def _stamps(days: np.ndarray, zero: pd.Timestamp) -> pd.Series:
    """Simulated days → ISO text (empty where NaN), to the second."""
    days = np.asarray(days, dtype=float)
    seconds = np.round(days * 86400.0)
    out = pd.Series(zero + pd.to_timedelta(seconds, unit="s"))
    return out.dt.strftime(TIME_FORMAT).where(~np.isnan(days), "")


def _ids(prefix: str, numbers: np.ndarray) -> pd.Series:
    return pd.Series(np.char.add(prefix, np.asarray(numbers, dtype=np.int64).astype(str)))


def _rep_ids(numbers: np.ndarray) -> pd.Series:
    """Rep numbers → person ids (empty for -1: no rep)."""
    numbers = np.asarray(numbers, dtype=np.int64)
    return _ids("rep-", numbers).where(numbers >= 0, "")


def lead_status(state: np.ndarray, sql_t: np.ndarray) -> np.ndarray:
    """The CRM status of each lead record (:data:`~sim.calibration.crmformat.LEAD_STATUSES`)."""
    status = np.full(state.shape, "lost", dtype=object)
    status[state == LeadState.OPEN] = "open"
    status[state == LeadState.UNREACHABLE] = "unreachable"
    status[state == LeadState.NOT_A_FIT] = "disqualified"
    status[state == LeadState.STALE] = "stale"
    status[~np.isnan(sql_t)] = "qualified"
    return status


def export_tables(scenario: Scenario, log: EventLog) -> dict[str, pd.DataFrame]:
    """The CRM tables of one replication's records, canonical columns in file order."""
    zero = day_zero(scenario)
    leads = log.lead_table()
    order = np.argsort(leads["lead"], kind="stable")
    lead = {k: np.asarray(v)[order] for k, v in leads.items()}
    tables = {
        "leads": _leads(lead, log, zero),
        "activities": _activities(lead, zero),
        **_opportunities(lead, log, zero),
        **_accounts(scenario, log, zero),
        "people": _people(scenario, log, zero),
    }
    return {name: table[[c.name for c in TABLES[name]]] for name, table in tables.items()}


def _leads(lead: dict[str, np.ndarray], log: EventLog, zero: pd.Timestamp) -> pd.DataFrame:
    has_opp = ~np.isnan(lead["opportunity_t"])
    source = np.where(lead["source"] == Source.OUTBOUND, "outbound", "inbound")
    return pd.DataFrame({
        "lead_id": _ids("lead-", lead["lead"]),
        "created_at": _stamps(lead["created_t"], zero),
        "source": source,
        "segment": np.asarray(log.segments, dtype=object)[lead["segment"]],
        "owner_id": _rep_ids(lead["dev_rep"]),
        "first_touch_at": _stamps(lead["first_touch_t"], zero),
        "status": lead_status(lead["state"], lead["sql_t"]),
        "qualified_at": _stamps(lead["sql_t"], zero),
        "opportunity_id": _ids("opp-", lead["lead"]).where(has_opp, ""),
    })


def _activities(lead: dict[str, np.ndarray], zero: pd.Timestamp) -> pd.DataFrame:
    """One row per dial: ``dials`` calls from the first touch to the connect (or the lead's end),
    evenly spaced; the last call of a reached lead connects, all others do not."""
    dials = lead["dials"].astype(np.int64)
    first = lead["first_touch_t"]
    touched = (dials > 0) & ~np.isnan(first)
    idx = np.flatnonzero(touched)
    n = dials[idx]
    connected = ~np.isnan(lead["connect_t"][idx])
    last = np.where(connected, lead["connect_t"][idx], lead["end_t"][idx])
    last = np.maximum(last, first[idx])
    row_lead = np.repeat(idx, n)
    k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)  # 0 … n-1 within each lead
    span = np.repeat((last - first[idx]) / np.maximum(n - 1, 1), n)
    t = np.repeat(first[idx], n) + k * span
    is_last = k == np.repeat(n - 1, n)
    outcome = np.where(is_last & np.repeat(connected, n), "connected", "not_connected")
    return pd.DataFrame({
        "activity_id": _ids("call-", np.arange(len(t))),
        "lead_id": _ids("lead-", lead["lead"][row_lead]),
        "rep_id": _rep_ids(lead["dev_rep"][row_lead]),
        "at": _stamps(t, zero),
        "type": "call",
        "outcome": outcome,
    })


def _opportunities(lead: dict[str, np.ndarray], log: EventLog, zero: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """Opportunities (a lead that reached a closer) and their stage history: ``open`` when created,
    then ``closed_won`` or ``closed_lost``."""
    idx = np.flatnonzero(~np.isnan(lead["opportunity_t"]))
    state = lead["state"][idx]
    closed_t = np.where(state == LeadState.OPEN, np.nan,
                        np.where(np.isnan(lead["close_t"][idx]), lead["end_t"][idx], lead["close_t"][idx]))
    closed = ~np.isnan(closed_t)
    won = np.where(closed, np.where(state == LeadState.WON, "true", "false"), "")
    mrr = np.where(state == LeadState.WON, lead["mrr_usd"][idx], np.nan)
    opp_ids = _ids("opp-", lead["lead"][idx])
    opportunities = pd.DataFrame({
        "opportunity_id": opp_ids,
        "lead_id": _ids("lead-", lead["lead"][idx]),
        "owner_id": _rep_ids(lead["closer_rep"][idx]),
        "segment": np.asarray(log.segments, dtype=object)[lead["segment"][idx]],
        "created_at": _stamps(lead["opportunity_t"][idx], zero),
        "closed_at": _stamps(closed_t, zero),
        "won": won,
        "mrr_usd": np.round(mrr, 2),
    })
    opened = pd.DataFrame({"opportunity_id": opp_ids, "stage": "open",
                           "entered_at": _stamps(lead["opportunity_t"][idx], zero)})
    ends = pd.DataFrame({"opportunity_id": opp_ids[closed].to_numpy(),
                         "stage": np.where(state[closed] == LeadState.WON, CLOSED_WON, CLOSED_LOST),
                         "entered_at": _stamps(closed_t[closed], zero).to_numpy()})
    stages = pd.concat([opened, ends], ignore_index=True).sort_values("opportunity_id", kind="stable")
    return {"opportunities": opportunities, "opportunity_stages": stages.reset_index(drop=True)}


def _accounts(scenario: Scenario, log: EventLog, zero: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """Accounts from the account events: new and installed accounts start, churn ends them,
    expansions are MRR changes. An installed account started ``age_months`` before day 0."""
    events = log.account_table()
    kind = events["kind"].astype(int)
    lead = events["lead"].astype(np.int64)
    starts = np.flatnonzero((kind == AccountEvent.NEW) | (kind == AccountEvent.INSTALLED))
    start_t = events["t"][starts].astype(float).copy()
    installed = kind[starts] == AccountEvent.INSTALLED
    ages = [g.age_months * DAYS_PER_MONTH for g in scenario.warm_start.customers for _ in range(g.count)]
    start_t[np.flatnonzero(installed)] = -np.asarray(ages[:int(installed.sum())], dtype=float)
    churn = kind == AccountEvent.CHURN
    end_by_lead = pd.Series(events["t"][churn], index=lead[churn])
    end_t = end_by_lead.reindex(lead[starts]).to_numpy(dtype=float)
    accounts = pd.DataFrame({
        "account_id": _ids("acct-", lead[starts]),
        "opportunity_id": _ids("opp-", lead[starts]).where(~installed, ""),
        "segment": np.asarray(log.segments, dtype=object)[events["segment"][starts].astype(int)],
        "started_at": _stamps(start_t, zero),
        "ended_at": _stamps(end_t, zero),
        "mrr_usd": np.round(events["mrr_usd"][starts], 2),
    })
    exp = kind == AccountEvent.EXPANSION
    changes = pd.DataFrame({
        "account_id": _ids("acct-", lead[exp]),
        "at": _stamps(events["t"][exp], zero),
        "mrr_delta_usd": np.round(events["mrr_usd"][exp], 2),
    })
    return {"accounts": accounts, "mrr_changes": changes}


def _people(scenario: Scenario, log: EventLog, zero: pd.Timestamp) -> pd.DataFrame:
    """People from the workforce events. A rep present at the start started its initial tenure
    before day 0; a promoted rep appears once per role."""
    w = log.workforce_table()
    if len(w["t"]) == 0:
        return pd.DataFrame({c.name: [] for c in TABLES["people"]})
    kind = w["kind"].astype(int)
    rep = w["rep"].astype(np.int64)
    begin = np.isin(kind, [WorkforceEvent.START, WorkforceEvent.HIRE, WorkforceEvent.PROMOTED_IN])
    idx = np.flatnonzero(begin)
    start_t = w["t"][idx].astype(float).copy()
    tenures = {role: spec.tenures() for role, spec in scenario.roles.items()}
    for j, i in enumerate(idx):  # starting employees only: a handful per role
        if kind[i] == WorkforceEvent.START and w["t"][i] == 0.0 and int(w["rep_kind"][i]) == RepKind.EMPLOYEE:
            seats = tenures[log.roles[int(w["role"][i])]]
            seat = int(w["seat"][i])
            if seat < len(seats):
                start_t[j] = -seats[seat] * DAYS_PER_MONTH
    leave = np.isin(kind, [WorkforceEvent.EXIT, WorkforceEvent.PROMOTED_OUT])
    end_t = pd.Series(w["t"][leave], index=rep[leave]).reindex(rep[idx]).to_numpy(dtype=float)
    return pd.DataFrame({
        "person_id": _rep_ids(rep[idx]),
        "role": np.asarray(log.roles, dtype=object)[w["role"][idx].astype(int)],
        "team": np.asarray(log.teams, dtype=object)[w["team"][idx].astype(int)],
        "started_at": _stamps(start_t, zero),
        "ended_at": _stamps(end_t, zero),
    })


def export_meta(scenario: Scenario, seed: int, scenario_file: str, overrides: list[str] | None = None) -> dict:
    """The ``export.yaml`` of a synthetic export: the observed period and where it came from."""
    zero = day_zero(scenario)
    end = zero + pd.to_timedelta(scenario.month_start_days()[-1], unit="D")
    meta = {"observed_from": zero.isoformat(), "observed_to": end.isoformat(),
            "made_by": "salesim synth", "scenario": scenario_file, "seed": seed}
    if overrides:
        meta["overrides"] = list(overrides)
    return meta


def synthesize(scenario: Scenario, seed: int, replication: int = 0) -> dict[str, pd.DataFrame]:
    """Simulate one replication of ``scenario`` and return it as CRM tables."""
    from sim.model.world import simulate

    return export_tables(scenario, simulate(scenario, seed, replication))


def write_export(tables: dict[str, pd.DataFrame], meta: dict, out: Path) -> None:
    """Write the tables and ``export.yaml`` into ``out`` all at once: into a sibling folder first,
    renamed into place when complete (an interrupted write leaves no half export)."""
    import os
    import shutil
    import tempfile

    import yaml

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for name, table in tables.items():
            table.to_csv(tmp / f"{name}.csv", index=False)
        (tmp / EXPORT_META).write_text(yaml.safe_dump(meta, sort_keys=False))
        tmp.chmod(0o755)  # mkdtemp makes it private; an export is an ordinary folder
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
