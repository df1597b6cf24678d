"""Event logs for process mining: one replication's lead records as per-lead events.

This module owns the translation of a replication's lead records into an event log — one row per
step a lead went through (case id, activity, timestamp, resource, team) — and its files: CSV or
Parquet (one table) and OCEL 2.0 JSON (object-centric: leads and reps as objects, each event
related to its lead and its rep). The steps come from the record's timestamps, so the log is a
pure function of (scenario, seed, replication) — the same replication ``salesim run`` ran.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration.synth import TIME_FORMAT, day_zero
from sim.eventlog import EventLog, LeadState, Source
from sim.scenario import Scenario

STEPS = (
    ("created_t", "created", ""),
    ("first_touch_t", "first touch", "dev"),
    ("connect_t", "connected", "dev"),
    ("sql_t", "qualified (SQL)", "dev"),
    ("handoff_t", "handed off", "closer"),
    ("opportunity_t", "opportunity opened", "closer"),
)
"""(record time column, activity, whose rep: ``dev``, ``closer`` or none) of each step, in funnel
order."""
ENDS = {
    LeadState.UNREACHABLE: ("unreachable", "dev"), LeadState.NOT_A_FIT: ("disqualified", "dev"),
    LeadState.STALE: ("stale", "dev"), LeadState.LOST_IN_HANDOFF: ("lost in hand-off", "closer"),
    LeadState.LOST_DEAL: ("lost", "closer"), LeadState.WON: ("won", "closer"),
    LeadState.NO_CAPACITY: ("no capacity", "dev"), LeadState.LOST_AT_EXIT: ("lost at a rep's exit", "dev"),
}
"""The activity of each end state (open leads have none), at the record's end time."""
COLUMNS = ("case_id", "activity", "timestamp", "resource", "team", "source", "segment")


def event_table(scenario: Scenario, log: EventLog) -> pd.DataFrame:
    """One row per lead step, ordered by case and time."""
    lead = log.lead_table()
    zero = day_zero(scenario)
    teams = np.asarray(log.teams, dtype=object)
    source = np.where(lead["source"] == Source.OUTBOUND, "outbound",
                      np.where(lead["source"] == Source.WARM_START, "warm_start", "inbound"))
    segment = np.asarray(log.segments, dtype=object)[lead["segment"]]
    parts = []

    def part(rows: np.ndarray, t: np.ndarray, activity: np.ndarray | str, who: str) -> None:
        none = np.full(rows.size, -1, dtype=np.int64)
        rep = lead[f"{who}_rep"][rows].astype(np.int64) if who else none
        team = lead[f"{who}_team"][rows].astype(np.int64) if who else none
        parts.append(pd.DataFrame({
            "case_id": np.char.add("lead-", lead["lead"][rows].astype(str)), "activity": activity,
            "t": t[rows], "resource": np.where(rep >= 0, np.char.add("rep-", rep.astype(str)), ""),
            "team": np.where(team >= 0, teams[np.maximum(team, 0)], ""), "source": source[rows],
            "segment": segment[rows], "order": len(parts)}))

    for column, activity, who in STEPS:
        part(np.flatnonzero(~np.isnan(lead[column])), lead[column], activity, who)
    for state, (activity, who) in ENDS.items():
        part(np.flatnonzero(lead["state"] == state), lead["end_t"], activity, who)
    events = pd.concat(parts, ignore_index=True).sort_values(["case_id", "t", "order"], kind="stable")
    stamps = zero + pd.to_timedelta(np.round(events["t"].to_numpy() * 86400), unit="s")
    events["timestamp"] = pd.Series(stamps, index=events.index).dt.strftime(TIME_FORMAT)
    return events[list(COLUMNS)].reset_index(drop=True)


def ocel_json(events: pd.DataFrame) -> dict:
    """The events as OCEL 2.0 JSON: object types lead and rep, an event type per activity, each
    event related to its lead (qualifier ``case``) and its rep (``resource``)."""
    leads = events.drop_duplicates("case_id")
    reps = events[events["resource"] != ""].drop_duplicates("resource")
    epoch = "1970-01-01T00:00:00Z"
    return {
        "objectTypes": [
            {"name": "lead", "attributes": [{"name": "source", "type": "string"},
                                            {"name": "segment", "type": "string"}]},
            {"name": "rep", "attributes": [{"name": "team", "type": "string"}]},
        ],
        "eventTypes": [{"name": a, "attributes": []} for a in events["activity"].unique()],
        "objects": [
            *({"id": c, "type": "lead", "attributes": [{"name": "source", "time": epoch, "value": s},
                                                       {"name": "segment", "time": epoch, "value": g}]}
              for c, s, g in zip(leads["case_id"], leads["source"], leads["segment"], strict=True)),
            *({"id": r, "type": "rep", "attributes": [{"name": "team", "time": epoch, "value": t}]}
              for r, t in zip(reps["resource"], reps["team"], strict=True)),
        ],
        "events": [
            {"id": f"e{i}", "type": a, "time": f"{ts}Z", "attributes": [],
             "relationships": [{"objectId": c, "qualifier": "case"},
                               *([{"objectId": r, "qualifier": "resource"}] if r else [])]}
            for i, (c, a, ts, r) in enumerate(zip(events["case_id"], events["activity"], events["timestamp"],
                                                  events["resource"], strict=True))
        ],
    }


EVENT_LOG_SUFFIXES = (".csv", ".parquet", ".json", ".jsonocel")


def write_event_log(events: pd.DataFrame, path: Path) -> None:
    """Write by suffix: ``.csv``, ``.parquet``, or ``.json`` / ``.jsonocel`` (OCEL 2.0); atomically."""
    import os
    import tempfile

    suffix = path.suffix.lower()
    if suffix not in EVENT_LOG_SUFFIXES:
        raise ValueError(f"{path}: the event log is written as .csv, .parquet or .json (OCEL 2.0)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        if suffix == ".csv":
            events.to_csv(tmp, index=False)
        elif suffix == ".parquet":
            events.to_parquet(tmp, index=False)
        else:
            Path(tmp).write_text(json.dumps(ocel_json(events)))
        os.chmod(tmp, 0o644)  # mkstemp makes it private; an event log is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
