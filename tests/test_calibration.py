"""Calibration: the synthetic export's consistency, reading through a mapping (a HubSpot-shaped
export), bad input reported with file, row and column, censoring, and the CLI's exit codes."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calibration.crmformat import TABLES
from sim.calibration.estimates import Calibration
from sim.calibration.reader import MAX_PROBLEMS, CrmExport, ExportError, read_export
from sim.calibration.synth import export_meta, synthesize, write_export
from sim.cli import main
from sim.scenario import load_scenario

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def small_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic export of the tiny scenario (3 months), written once."""
    scenario = load_scenario(DATA / "minimal.yaml")
    folder = tmp_path_factory.mktemp("small") / "export"
    write_export(synthesize(scenario, 5), export_meta(scenario, 5, "minimal.yaml"), folder)
    return folder


def test_synth_writes_every_table_in_the_format(small_export: Path) -> None:
    for name, columns in TABLES.items():
        table = pd.read_csv(small_export / f"{name}.csv", dtype=str, keep_default_na=False)
        assert list(table.columns) == [c.name for c in columns], name
    assert (small_export / "export.yaml").exists()
    read_export(small_export)  # its own format reads back clean


def test_calls_follow_each_leads_dials(small_export: Path) -> None:
    """Every lead touched has its calls; only the last call of a reached lead connects, and
    calls are in time order."""
    from sim.model.world import simulate

    export = read_export(small_export)
    acts = export.table("activities")
    leads = export.table("leads").set_index("lead_id")
    log = simulate(load_scenario(DATA / "minimal.yaml"), 5, 0).lead_table()
    dials = pd.Series(log["dials"], index="lead-" + pd.Series(log["lead"]).astype(str)).astype(int)
    calls = acts.groupby("lead_id").size()
    assert (calls == dials[calls.index]).all()
    assert dials[dials > 0].index.isin(calls.index).all()
    connects = acts[acts["outcome"] == "connected"]
    assert connects["lead_id"].is_unique
    last = acts.sort_values("at").groupby("lead_id").tail(1)
    assert set(connects["activity_id"]) <= set(last["activity_id"])
    reached = leads["status"].isin(["qualified", "disqualified"])
    assert set(connects["lead_id"]) == set(leads.index[reached & leads["first_touch_at"].notna()])


def test_synth_is_a_function_of_scenario_and_seed(small_export: Path) -> None:
    again = synthesize(load_scenario(DATA / "minimal.yaml"), 5)
    for name, table in again.items():
        on_disk = pd.read_csv(small_export / f"{name}.csv", dtype=str, keep_default_na=False)
        assert on_disk.equals(table.astype(str).replace({"nan": ""})), name


# --------------------------------------------------------------------------- a HubSpot-shaped export

HUBSPOT_MAPPING = """
time_format: "%m/%d/%Y %H:%M"
tables:
  leads:
    file: contacts.csv
    columns: {lead_id: Record ID, created_at: Create Date, source: Original Source, segment: Company Size,
              owner_id: Contact owner, first_touch_at: First Contact Date, status: Lead Status,
              opportunity_id: Associated Deal}
    values:
      status: {NEW: open, ATTEMPTED_TO_CONTACT: unreachable, UNQUALIFIED: disqualified, SALES_QUALIFIED: qualified}
      source: {ORGANIC_SEARCH: inbound, PAID_SEARCH: inbound, OUTBOUND_SALES: outbound}
  activities:
    file: calls.csv
    columns: {activity_id: Call ID, lead_id: Associated Contact, rep_id: Activity assigned to, at: Activity date,
              type: Activity type, outcome: Call outcome}
    values:
      type: {CALL: call, EMAIL: email}
      outcome: {CONNECTED: connected, NO_ANSWER: not_connected, BUSY: not_connected, LEFT_VOICEMAIL: not_connected}
  opportunities:
    file: deals.csv
    columns: {opportunity_id: Deal ID, lead_id: Associated Contact, owner_id: Deal owner, segment: Company Size,
              created_at: Create Date, closed_at: Close Date, won: Is Closed Won, mrr_usd: Amount in company currency}
  opportunity_stages:
    file: deal_stage_history.csv
    columns: {opportunity_id: Deal ID, stage: Deal Stage, entered_at: Date entered stage}
    values:
      stage: {appointmentscheduled: discovery, presentationscheduled: demo, closedwon: closed_won,
              closedlost: closed_lost}
  people:
    file: users.csv
    columns: {person_id: User ID, role: Team role, team: Team, started_at: Start date, ended_at: Deactivated date}
"""


def write_hubspot(folder: Path, **overrides: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "mapping.yaml": HUBSPOT_MAPPING,
        "contacts.csv": "Record ID,Create Date,Original Source,Company Size,Contact owner,First Contact Date,"
                        "Lead Status,Associated Deal\n"
                        "101,01/02/2024 09:15,ORGANIC_SEARCH,smb,u1,01/02/2024 09:40,SALES_QUALIFIED,9001\n"
                        "102,01/03/2024 10:00,PAID_SEARCH,smb,u1,01/03/2024 13:00,UNQUALIFIED,\n"
                        "103,01/04/2024 11:00,OUTBOUND_SALES,mid_market,u2,,NEW,\n",
        "calls.csv": "Call ID,Associated Contact,Activity assigned to,Activity date,Activity type,Call outcome\n"
                     "c1,101,u1,01/02/2024 09:40,CALL,NO_ANSWER\n"
                     "c2,101,u1,01/02/2024 14:00,CALL,CONNECTED\n"
                     "c3,102,u1,01/03/2024 13:00,CALL,CONNECTED\n",
        "deals.csv": "Deal ID,Associated Contact,Deal owner,Company Size,Create Date,Close Date,Is Closed Won,"
                     "Amount in company currency\n"
                     "9001,101,u3,smb,01/05/2024 10:00,02/01/2024 16:00,true,1200\n",
        "deal_stage_history.csv": "Deal ID,Deal Stage,Date entered stage\n"
                                  "9001,appointmentscheduled,01/05/2024 10:00\n"
                                  "9001,presentationscheduled,01/12/2024 10:00\n"
                                  "9001,closedwon,02/01/2024 16:00\n",
        "users.csv": "User ID,Team role,Team,Start date,Deactivated date\n"
                     "u1,mdr,East,06/01/2022 09:00,\n"
                     "u2,sdr,East,03/01/2023 09:00,05/31/2024 17:00\n"
                     "u3,ae,East,01/15/2021 09:00,\n",
    }
    files.update(overrides)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_mapping_reads_a_hubspot_shaped_export(tmp_path: Path) -> None:
    export = read_export(write_hubspot(tmp_path / "hubspot"))
    leads = export.table("leads")
    assert list(leads["lead_id"]) == ["101", "102", "103"]
    assert list(leads["status"]) == ["qualified", "disqualified", "open"]
    assert list(leads["source"]) == ["inbound", "inbound", "outbound"]
    assert leads["created_at"].iloc[0] == pd.Timestamp("2024-01-02 09:15")
    assert pd.isna(leads["first_touch_at"].iloc[2])
    assert list(export.table("activities")["outcome"]) == ["not_connected", "connected", "connected"]
    assert list(export.table("opportunity_stages")["stage"]) == ["discovery", "demo", "closed_won"]
    opp = export.table("opportunities").iloc[0]
    assert opp["won"] is True and opp["mrr_usd"] == 1200.0
    assert pd.isna(export.table("people").set_index("person_id").loc["u1", "ended_at"])
    assert export.table("accounts").empty  # not in this export: fits that need it keep the base


def test_bad_input_reports_every_problem_with_file_row_and_column(tmp_path: Path) -> None:
    folder = write_hubspot(
        tmp_path / "bad",
        **{"contacts.csv": "Record ID,Create Date,Original Source,Company Size,Contact owner,First Contact Date,"
                           "Lead Status,Associated Deal\n"
                           "101,01/02/2024 09:15,ORGANIC_SEARCH,smb,u1,01/02/2024 09:40,SALES_QUALIFIED,9001\n"
                           "101,yesterday,PAID_SEARCH,smb,u1,,UNQUALIFIED,\n",
           "deals.csv": "Deal ID,Associated Contact,Deal owner,Company Size,Create Date,Close Date,Is Closed Won\n"
                        "9001,101,u3,smb,01/05/2024 10:00,01/01/2024 16:00,true\n",
           "deal_stage_history.csv": "Deal ID,Deal Stage,Date entered stage\n9001,negotiation,01/05/2024 10:00\n",
           "users.csv": "User ID,Team role,Team,Start date,Deactivated date\nu1,mdr,East,06/01/2022 09:00,"
                        "05/01/2022 09:00\n",
           "calls.csv": "Call ID,Associated Contact,Activity assigned to,Activity date,Activity type,Call outcome\n"})
    with pytest.raises(ExportError) as caught:
        read_export(folder)
    text = str(caught.value)
    assert "contacts.csv:3: Record ID: duplicate id '101'" in text
    assert "contacts.csv:3: Create Date: 'yesterday' is not a date (expected %m/%d/%Y %H:%M)" in text
    assert "deals.csv:1: Amount in company currency: missing column" in text
    assert "deals.csv:2: Close Date: closes (2024-01-01 16:00:00) before 2024-01-05 10:00:00" in text
    assert "deal_stage_history.csv:2: Deal Stage: 'negotiation' is not in the mapping's values for stage" in text
    assert "users.csv:2: Deactivated date: leaves" in text
    assert caught.value.total == len(caught.value.problems) == 6, text  # calls.csv: header only is fine


def test_missing_and_empty_required_tables(tmp_path: Path) -> None:
    folder = tmp_path / "e"
    folder.mkdir()
    (folder / "leads.csv").write_text("lead_id,created_at,source,segment,first_touch_at,status\n")
    with pytest.raises(ExportError) as caught:
        read_export(folder)
    text = str(caught.value)
    assert "leads.csv: empty: the leads table has no rows" in text
    assert "opportunities.csv: missing: the opportunities table is required" in text


def test_problems_are_listed_up_to_the_limit(tmp_path: Path) -> None:
    rows = "".join(f"{i},not a date,inbound,smb,,open\n" for i in range(200))
    folder = tmp_path / "many"
    folder.mkdir()
    (folder / "leads.csv").write_text("lead_id,created_at,source,segment,first_touch_at,status\n" + rows)
    with pytest.raises(ExportError) as caught:
        read_export(folder)
    assert len(caught.value.problems) == MAX_PROBLEMS
    assert caught.value.total >= 200
    assert f"… and {caught.value.total - MAX_PROBLEMS} more" in str(caught.value)


# --------------------------------------------------------------------------- censoring


def test_censoring_naive_mean_is_low_and_the_survival_fit_is_not() -> None:
    """Reps hired over 4 years, tenure Weibull(scale 20, shape 1.5 months), the HR export covering
    the last year: the mean of the tenures that ended is more than 4 SE below the true mean (the
    long ones are still running); the censored, left-truncated Weibull fit covers the true scale."""
    from sim.calibration.survival import durations, naive_mean, tenure

    rng = np.random.default_rng(7)
    n = 1500
    start_days = rng.uniform(-3 * 365.25, 365.25, n)
    tenure_days = 20.0 * rng.weibull(1.5, n) * 365.25 / 12
    end_days = start_days + tenure_days
    seen = end_days > 0  # people who left before the period are not in the HR export
    zero = pd.Timestamp("2024-01-01")
    ended = np.where(end_days[seen] <= 365.25, end_days[seen], np.nan)
    people = pd.DataFrame({
        "person_id": [f"p{i}" for i in range(int(seen.sum()))], "role": "ae", "team": "org",
        "started_at": zero + pd.to_timedelta(start_days[seen], unit="D"),
        "ended_at": zero + pd.to_timedelta(ended, unit="D"),
    })
    export = CrmExport({"people": people}, zero, zero + pd.Timedelta(days=365.25))
    cal = Calibration()
    tenure(export, None, cal)
    fitted = cal.get("roles.ae.tenure_months")
    true_mean = 20.0 * math.gamma(1 + 1 / 1.5)
    d, obs, _entry = durations(export, people["started_at"], people["ended_at"], 365.25 / 12)
    naive = naive_mean(d, obs)
    naive_se = float(np.std(d[obs], ddof=1)) / math.sqrt(int(obs.sum()))
    assert naive < true_mean - 4 * naive_se, (naive, naive_se, true_mean)  # biased low, beyond chance
    assert fitted.covers(20.0), fitted.comment()
    assert abs(fitted.extra["mean"] - true_mean) < 0.15 * true_mean


# --------------------------------------------------------------------------- the commands


def test_cli_synth_and_calibrate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "export"
    assert main(["synth", str(DATA / "minimal.yaml"), "--out", str(out), "--seed", "3"]) == 0
    assert "leads" in capsys.readouterr().out
    assert main(["synth", str(DATA / "minimal.yaml"), "--out", str(out)]) == 2  # not empty
    assert "--overwrite" in capsys.readouterr().err
    fitted = tmp_path / "fit" / "fitted.yaml"
    assert main(["calibrate", "--data", str(out), "--out", str(fitted), "--extends", str(DATA / "minimal.yaml")]) == 0
    assert "fitted" in capsys.readouterr().out
    assert main(["validate", str(fitted)]) == 0
    report = (fitted.parent / "calibration_report.md").read_text()
    assert report.startswith("# Calibration report") and "![calibration_dials.png]" in report
    assert (fitted.parent / "calibration_dials.png").exists()


def test_cli_calibrate_bad_export_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_hubspot(tmp_path / "bad", **{"users.csv": "User ID,Team role\nu1,mdr\n"})
    fitted = tmp_path / "fit" / "fitted.yaml"
    assert main(["calibrate", "--data", str(folder), "--out", str(fitted)]) == 2
    err = capsys.readouterr().err
    assert "users.csv:1: Start date: missing column" in err and "Traceback" not in err
    assert not fitted.exists() and not (fitted.parent / "calibration_report.md").exists()


def test_a_fixed_cadence_is_not_forced_into_a_geometric(small_export: Path) -> None:
    """The tiny scenario's leads need 10–15 dials (uniform): the KS test rejects the geometric and
    the empirical distribution is written, exactly those values."""
    from sim.calibration.calibrate import calibrate

    cal = calibrate(read_export(small_export), load_scenario(DATA / "minimal.yaml"))
    dials = cal.get("inbound.dials_to_connect")
    assert dials.value["dist"] == "empirical", dials.comment()
    assert set(dials.value["values"]) <= set(range(10, 16))
    assert dials.extra["ks_distance"] > dials.extra["ks_critical"]


def test_mapping_problems_are_reported_with_the_export_s(tmp_path: Path) -> None:
    folder = write_hubspot(tmp_path / "m", **{"mapping.yaml": HUBSPOT_MAPPING + "  nonsense: {}\nextra: 1\n"})
    with pytest.raises(ExportError) as caught:
        read_export(folder)
    text = str(caught.value)
    assert "mapping.yaml: tables.nonsense: unknown table" in text
    assert "mapping.yaml: extra: unknown key" in text
