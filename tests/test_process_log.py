"""Event logs for process mining: per-lead events from one replication, as CSV, Parquet and
OCEL 2.0 JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calibration.process_log import event_table, ocel_json, write_event_log
from sim.eventlog import LeadState
from sim.model.world import simulate
from sim.scenario import load_scenario

MINIMAL = Path(__file__).parent / "data" / "minimal.yaml"


@pytest.fixture(scope="module")
def events_and_records() -> tuple[pd.DataFrame, dict]:
    scenario = load_scenario(MINIMAL)
    log = simulate(scenario, 4, 0)
    return event_table(scenario, log), log.lead_table()


def test_every_lead_is_a_case_with_its_steps_in_order(events_and_records: tuple[pd.DataFrame, dict]) -> None:
    events, leads = events_and_records
    assert events["case_id"].nunique() == len(leads["lead"])
    counts = events["activity"].value_counts()
    assert counts["created"] == len(leads["lead"])
    assert counts.get("won", 0) == int(np.sum(leads["state"] == LeadState.WON))
    assert counts.get("qualified (SQL)", 0) == int(np.sum(~np.isnan(leads["sql_t"])))
    first = events.groupby("case_id", sort=False)["activity"].first()
    assert (first == "created").all()
    stamps = pd.to_datetime(events["timestamp"])
    assert (stamps.groupby(events["case_id"]).diff().dropna() >= pd.Timedelta(0)).all()
    assert (events.loc[events["activity"] == "created", "resource"] == "").all()
    assert (events.loc[events["activity"] == "first touch", "resource"].str.startswith("rep-")).all()


def test_files_round_trip(events_and_records: tuple[pd.DataFrame, dict], tmp_path: Path) -> None:
    events, _ = events_and_records
    write_event_log(events, tmp_path / "log.csv")
    write_event_log(events, tmp_path / "log.parquet")
    assert pd.read_csv(tmp_path / "log.csv", keep_default_na=False).equals(events)
    assert pd.read_parquet(tmp_path / "log.parquet").equals(events)
    with pytest.raises(ValueError, match=r"csv, \.parquet or \.json"):
        write_event_log(events, tmp_path / "log.xlsx")


def test_ocel_relates_every_event_to_known_objects(events_and_records: tuple[pd.DataFrame, dict],
                                                   tmp_path: Path) -> None:
    events, _ = events_and_records
    write_event_log(events, tmp_path / "log.json")
    ocel = json.loads((tmp_path / "log.json").read_text())
    assert ocel == ocel_json(events)
    assert {t["name"] for t in ocel["objectTypes"]} == {"lead", "rep"}
    ids = {o["id"] for o in ocel["objects"]}
    assert len(ocel["events"]) == len(events)
    assert all(r["objectId"] in ids for e in ocel["events"] for r in e["relationships"])
    assert {e["type"] for e in ocel["events"]} == {t["name"] for t in ocel["eventTypes"]}
    assert all(e["time"].endswith("Z") for e in ocel["events"])


def test_cli_refuses_an_unknown_event_log_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sim.cli import main

    assert main(["run", str(MINIMAL), "--reps", "2", "--workers", "1", "--out", str(tmp_path / "r"),
                 "--event-log", str(tmp_path / "log.xlsx")]) == 2
    assert "--event-log" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
