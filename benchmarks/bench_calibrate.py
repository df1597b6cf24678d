"""Calibration speed: read and fit an export of 100,000 leads and 1,000,000 call activities.

The target (issue 25, point 8): ``salesim calibrate`` on such an export in under 60 s on 2 cores.
The export is generated here with NumPy, seeded — a CRM-shaped history over two years (leads with
geometric dials to connect, qualification falling with first-touch delay, opportunities, accounts
with churn, people with exits) — written as CSV (not timed), then read, validated and calibrated
in-process the way the command does (timed, stage by stage). ``salesim synth`` would make the
same tables but simulating 100,000 leads takes longer than fitting them.

Usage::

    python benchmarks/bench_calibrate.py [--leads 100000] [--calls 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

DAY0 = pd.Timestamp("2024-01-01")
PERIOD_DAYS = 730.5


def _stamp(days: np.ndarray) -> pd.Series:
    out = pd.Series(DAY0 + pd.to_timedelta(np.round(days * 86400), unit="s"))
    return out.dt.strftime("%Y-%m-%dT%H:%M:%S").where(~np.isnan(days), "")


def make_export(folder: Path, n_leads: int, n_calls: int, seed: int = 1) -> dict[str, int]:
    """Write a CRM-shaped export with about ``n_leads`` leads and ``n_calls`` calls; return row counts."""
    rng = np.random.default_rng(seed)
    max_attempts = 30
    mean_dials = 1.06 * n_calls / n_leads  # geometric dials, capped at 30: about the target count
    p = 1.0 / max(mean_dials, 1.0)
    created = np.sort(rng.uniform(0, PERIOD_DAYS, n_leads))
    source = np.where(rng.random(n_leads) < 0.7, "inbound", "outbound")
    segment = np.where(rng.random(n_leads) < 0.7, "smb", "mid_market")
    delay_h = rng.lognormal(0.0, 1.5, n_leads)
    first = created + delay_h / 24
    needed = rng.geometric(p, n_leads)
    dials = np.minimum(needed, max_attempts)
    reached = needed <= max_attempts
    last_call = first + (dials - 1) * 0.4
    odds = 0.25 / 0.75 * np.exp(-0.5 * np.log(np.clip(delay_h, 1, 24)))
    qualified = reached & (rng.random(n_leads) < odds / (1 + odds))
    status = np.where(qualified, "qualified", np.where(reached, "disqualified", "unreachable"))
    lead_ids = np.char.add("L", np.arange(n_leads).astype(str))
    has_opp = qualified & (rng.random(n_leads) < 0.9)
    opp_ids = np.where(has_opp, np.char.add("O", np.arange(n_leads).astype(str)), "")
    reps = np.char.add("R", rng.integers(0, 60, n_leads).astype(str))
    pd.DataFrame({"lead_id": lead_ids, "created_at": _stamp(created), "source": source, "segment": segment,
                  "owner_id": reps, "first_touch_at": _stamp(first), "status": status,
                  "qualified_at": _stamp(np.where(qualified, last_call, np.nan)), "opportunity_id": opp_ids,
                  }).to_csv(folder / "leads.csv", index=False)
    row = np.repeat(np.arange(n_leads), dials)
    k = np.arange(row.size) - np.repeat(np.cumsum(dials) - dials, dials)
    connected = (k == dials[row] - 1) & reached[row]
    pd.DataFrame({"activity_id": np.char.add("A", np.arange(row.size).astype(str)), "lead_id": lead_ids[row],
                  "rep_id": reps[row], "at": _stamp(first[row] + k * 0.4), "type": "call",
                  "outcome": np.where(connected, "connected", "not_connected")}).to_csv(
        folder / "activities.csv", index=False)
    o = np.flatnonzero(has_opp)
    o_created = last_call[o] + rng.lognormal(0.3, 0.5, o.size)
    won = rng.random(o.size) < 0.3
    o_closed = o_created + rng.lognormal(3.3, 0.5, o.size)
    o_closed = np.where(o_closed < PERIOD_DAYS, o_closed, np.nan)
    won_text = np.where(np.isnan(o_closed), "", np.where(won, "true", "false"))
    mrr = np.where(won, rng.lognormal(np.log(900), 0.6, o.size), np.nan)
    pd.DataFrame({"opportunity_id": opp_ids[o], "lead_id": lead_ids[o], "owner_id": reps[o],
                  "segment": segment[o], "created_at": _stamp(o_created), "closed_at": _stamp(o_closed),
                  "won": won_text, "mrr_usd": np.round(mrr, 2)}).to_csv(folder / "opportunities.csv", index=False)
    closed = ~np.isnan(o_closed)
    pd.concat([
        pd.DataFrame({"opportunity_id": opp_ids[o], "stage": "open", "entered_at": _stamp(o_created)}),
        pd.DataFrame({"opportunity_id": opp_ids[o][closed],
                      "stage": np.where(won[closed], "closed_won", "closed_lost"),
                      "entered_at": _stamp(o_closed[closed]).to_numpy()}),
    ]).to_csv(folder / "opportunity_stages.csv", index=False)
    a = o[won & closed]
    a_start = o_closed[won & closed]
    a_end = a_start + rng.exponential(30.4 / 0.03, a.size)
    a_end = np.where(a_end < PERIOD_DAYS, a_end, np.nan)
    pd.DataFrame({"account_id": np.char.add("C", a.astype(str)), "opportunity_id": opp_ids[a],
                  "segment": segment[a], "started_at": _stamp(a_start), "ended_at": _stamp(a_end),
                  "mrr_usd": np.round(mrr[np.isin(o, a)], 2)}).to_csv(folder / "accounts.csv", index=False)
    n_people = 150
    start = rng.uniform(-700, PERIOD_DAYS, n_people)
    end = start + 30.4 * 15 * rng.weibull(1.5, n_people)
    end = np.where(end < PERIOD_DAYS, end, np.nan)
    keep = np.isnan(end) | (end > 0)
    pd.DataFrame({"person_id": np.char.add("R", np.arange(n_people).astype(str))[keep],
                  "role": rng.choice(["mdr", "sdr", "ae"], n_people)[keep], "team": "org",
                  "started_at": _stamp(start[keep]), "ended_at": _stamp(end[keep])}).to_csv(
        folder / "people.csv", index=False)
    (folder / "export.yaml").write_text(f"observed_from: '{DAY0.isoformat()}'\n"
                                        f"observed_to: '{(DAY0 + pd.Timedelta(days=PERIOD_DAYS)).isoformat()}'\n")
    return {"leads": n_leads, "activities": int(row.size), "opportunities": int(o.size), "accounts": int(a.size)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="write the export here and keep it")
    args = parser.parse_args(argv)

    from sim.calibration.calibrate import FITS
    from sim.calibration.estimates import Calibration
    from sim.calibration.reader import read_export

    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench_calibrate."))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        t = time.perf_counter()
        counts = make_export(folder, args.leads, args.calls)
        print(f"export: {', '.join(f'{v:,} {k}' for k, v in counts.items())} (made in {time.perf_counter() - t:.1f} s)")
        started = time.perf_counter()
        export = read_export(folder)
        stages = [("read and validate", time.perf_counter() - started)]
        cal = Calibration()
        for fit in FITS:
            t = time.perf_counter()
            fit(export, None, cal)
            stages.append((fit.__name__, time.perf_counter() - t))
        total = time.perf_counter() - started
        for name, seconds in stages:
            print(f"  {name:<20} {seconds:6.2f} s")
        verdict = "within" if total < 60 else "OVER"
        print(f"calibrate: {total:.1f} s for {counts['leads']:,} leads and {counts['activities']:,} activities "
              f"({verdict} the 60 s target); {len(cal.fitted)} values fitted")
        return 0 if total < 60 else 1
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
