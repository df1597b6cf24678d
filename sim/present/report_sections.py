"""The decision report's sections as plain data for the template: KPI tables, funnel, teams,
segments and roles, the sensitivity and sweep sections, provenance and the incomplete-run notes.

Each function takes folders read by :mod:`sim.runs.folders` and returns rows of text (numbers
already worded by :mod:`sim.present.report_words`) and, where a figure belongs, its inline SVG.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.present.report_assumptions import note_of, note_text
from sim.present.report_words import (
    DESCRIPTIONS,
    count_or_none,
    metric_name,
    range_text,
    reps_text,
    title_case,
    value_text,
)
from sim.runs import folder_kpis as fk

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

    from sim.runs.folders import FolderComparison, RunFolder, SensitivityFolder, SweepFolder

# --------------------------------------------------------------------------- tables


def kpi_order(columns: Sequence[str]) -> list[str]:
    """The unqualified KPIs among ``columns``, in :data:`sim.metrics.KPI_NAMES` order (others after, sorted)."""
    from sim.metrics import KPI_NAMES

    present = [c for c in columns if c != "rep" and "@" not in c]
    ordered = [k for k in KPI_NAMES if k in present]
    return ordered + sorted(c for c in present if c not in ordered)


_VERDICT_WORDS = {
    "better": "better", "worse": "worse", "unclear": "not distinguishable from zero", "same": "the same",
    "volume": "a volume (no better or worse)", "none": "no data",
}


def comparison_rows(comparison: FolderComparison, scenario: str, metrics: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of the key-figures table of ``scenario`` against the baseline: means, paired difference, its CI, how
    many pairs went each way, and the verdict in words."""
    table = fk.kpi_comparison(comparison, scenario, metrics)
    rows = []
    for rec in table.to_dict("records"):
        m = rec["metric"]
        if rec["verdict"] == "same":
            better = f"equal in all {rec['n_pairs']}"
        else:
            n_better = count_or_none(rec["n_better"])
            better = "–" if n_better is None else f"{n_better} of {rec['n_pairs']}"
        rows.append({
            "metric": m, "name": title_case(metric_name(m)), "description": DESCRIPTIONS.get(m, ""),
            "baseline": value_text(m, rec["baseline_mean"]), "value": value_text(m, rec["mean"]),
            "diff": value_text(m, rec["diff_mean"], signed=True),
            "ci": range_text(m, rec["diff_ci95_low"], rec["diff_ci95_high"], signed=True),
            "better_in": better, "verdict": rec["verdict"], "verdict_text": _VERDICT_WORDS[rec["verdict"]],
        })
    return rows


def summary_rows(run: RunFolder, metrics: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of one run's key-figures table: mean with its CI, P10, median, P90."""
    rows = []
    for rec in fk.kpi_summary(run, metrics).to_dict("records"):
        m = rec["metric"]
        rows.append({"metric": m, "name": title_case(metric_name(m)), "description": DESCRIPTIONS.get(m, ""),
                     "mean": value_text(m, rec["mean"]), "ci": range_text(m, rec["ci95_low"], rec["ci95_high"]),
                     "p10": value_text(m, rec["p10"]), "p50": value_text(m, rec["p50"]),
                     "p90": value_text(m, rec["p90"])})
    return rows


def funnel_table(runs: Sequence[RunFolder], qualifier: str = "") -> dict[str, Any] | None:
    """The funnel per scenario (mean count per stage and the conversion from the stage above), for all leads or one
    ``qualifier`` (``source:inbound``); None when no stage has leads."""
    from sim.present.report_figures import FUNNEL

    means = {run.name: fk.funnel_means(run, FUNNEL, qualifier) for run in runs}
    stages = [label for label, _ in FUNNEL if any(math.isfinite(m[label]) and m[label] > 0 for m in means.values())]
    if not stages:
        return None
    rows = []
    for i, stage in enumerate(stages):
        cells = []
        for run in runs:
            value = means[run.name][stage]
            above = means[run.name][stages[i - 1]] if i else math.nan
            if stage == "Connects" and i >= 1:  # connects come from MQLs and prospects together
                above = sum(means[run.name][s] for s in stages[:i] if math.isfinite(means[run.name][s]))
            rate = value / above if i and above and math.isfinite(above) and above > 0 else math.nan
            cells.append({"value": value_text("count", value),
                          "rate": f"{100 * rate:.1f}%" if math.isfinite(rate) and stage != "Prospects (outbound)"
                          else ""})
        rows.append({"stage": stage, "cells": cells})
    return {"rows": rows, "means": {run.name: [means[run.name][s] for s in stages] for run in runs},
            "stages": stages}


def frame_rows(frame: pd.DataFrame) -> tuple[list[str], list[dict[str, Any]]]:
    """Column titles and worded rows of a KPI table indexed by team (or any key)."""
    columns = [str(c) for c in frame.columns]
    rows = []
    for index, rec in frame.iterrows():
        rows.append({"key": str(index), "cells": [value_text(c, rec[c]) for c in columns]})
    names = [f"{c.split('.', 1)[1].upper()} utilization" if c.startswith("utilization.")
             else title_case(metric_name(c)) for c in columns]
    return names, rows


def qualified_tables(runs: Sequence[RunFolder]) -> list[dict[str, Any]]:
    """Per-source, per-segment (and any other qualified) KPI tables: rows = (key, scenario), columns = KPIs."""
    tables = []
    groups: dict[str, dict[str, list[str]]] = {}
    for run in runs:
        for kind, keys in fk.qualified_kpis(run.kpis).items():
            for key, columns in keys.items():
                have = groups.setdefault(kind, {}).setdefault(key, [])
                have.extend(c for c in columns if c not in have)
    for kind, keys in groups.items():
        bases = list(dict.fromkeys(c.split("@", 1)[0] for cols in keys.values() for c in cols))
        bases = [b for b in kpi_order(bases)]
        rows = []
        for key, _ in keys.items():
            for run in runs:
                cells = []
                for base in bases:
                    column = f"{base}@{kind}:{key}" if kind != "team" else f"{base}@{key}"
                    values = run.kpis[column].to_numpy(float) if column in run.kpis.columns else np.array([])
                    values = values[np.isfinite(values)]
                    cells.append(value_text(base, float(values.mean())) if values.size else "–")
                rows.append({"key": key, "scenario": run.name, "cells": cells})
        tables.append({"kind": kind, "columns": [title_case(metric_name(b)) for b in bases], "rows": rows})
    return tables


def role_rows(runs: Sequence[RunFolder]) -> list[dict[str, Any]]:
    """Per role and scenario: headcount, ramped capacity and demand (FTE), utilization, share of months short."""
    rows = []
    for run in runs:
        table = fk.role_table(run)
        for role, rec in table.iterrows():
            rows.append({"role": str(role).upper(), "scenario": run.name,
                         "headcount": value_text("count", rec["headcount"]),
                         "capacity": value_text("count", rec["capacity_fte"]),
                         "demand": value_text("count", rec["demand_fte"]),
                         "utilization": value_text("utilization", rec["utilization"]),
                         "short": value_text("utilization", rec["months_short"]),
                         "overloaded": bool(rec["months_short"] > 0.5) if math.isfinite(rec["months_short"])
                         else False})
    return rows



# --------------------------------------------------------------------------- sensitivity and sweeps


def _input_note(label: str, runs: Sequence[RunFolder]) -> str:
    scenario, sep, path = label.partition(":")
    if not sep:
        scenario, path = "", label
    for run in runs:
        if scenario and run.name != scenario:
            continue
        note = note_of(run.source, path)
        if note:
            return note_text(note)
    return ""


def sensitivity_section(sens: SensitivityFolder, runs: Sequence[RunFolder], prefix: str,
                        top: int = 15) -> dict[str, Any]:
    """A sensitivity analysis in words, a tornado and tables: which assumptions flip the answer,
    which move it, which stay within the noise; each input with the source comment its scenario
    file gives it; Morris and Sobol rankings when they were run. ``prefix`` keeps the figure's
    SVG ids unique in the page; ``top`` rows are listed."""
    from sim.present import report_figures as figures
    from sim.present.sensitivity_text import parameter_value, parameter_words

    metric = sens.metric
    out: dict[str, Any] = {"path": str(sens.path), "target": sens.target, "reps": sens.reps, "seed": sens.seed,
                           "statements": [], "figure": None, "rows": [], "more": 0, "morris": [], "sobol": []}
    paired = len(sens.scenarios) >= 2
    what = metric_name(metric)
    about = f"the difference in {what}, {sens.scenarios[1]} − {sens.scenarios[0]}" if paired else what
    t = sens.tornado
    if t is not None and len(t):
        base = float(t["base"].iloc[0])
        out["statements"].append(f"With every assumption as written, {about} is {value_text(metric, base, paired)}.")
        flips, moves, flat = [], [], []
        for _, r in t.iterrows():
            if r["swing_ci95_low"] <= 0 <= r["swing_ci95_high"]:
                flat.append(r["input"])
                continue
            flip = paired and (r["value_low"] > 0) != (r["value_high"] > 0)
            text = (f"{parameter_words(r['input'])} from {parameter_value(r['input'], r['low'])} to "
                    f"{parameter_value(r['input'], r['high'])} moves it from "
                    f"{value_text(metric, r['value_low'], paired)}"
                    f" to {value_text(metric, r['value_high'], paired)}")
            (flips if flip else moves).append(text)
        if flips:
            out["statements"].append("The answer flips within the range of: " + "; ".join(flips[:5])
                                     + ". The decision hangs on these: measure them before deciding.")
        if moves:
            out["statements"].append("The answer holds, but moves, with: " + "; ".join(moves[:5])
                                     + (f" (and {len(moves) - 5} more)" if len(moves) > 5 else "") + ".")
        if flat:
            out["statements"].append(f"{len(flat)} other assumption{'s' if len(flat) != 1 else ''} move it by no "
                                     "more than the noise over their ranges.")
        with figures.report_style():
            fig = figures.tornado(t, metric, sens.target, top=12)
            out["figure"] = figures.svg(fig, f"{prefix}-tornado", "Tornado of the assumptions")
        for _, r in t.head(top).iterrows():
            decides = paired and (r["value_low"] > 0) != (r["value_high"] > 0)
            noise = r["swing_ci95_low"] <= 0 <= r["swing_ci95_high"]
            out["rows"].append({
                "input": r["input"], "note": _input_note(r["input"], runs),
                "range": f"{parameter_value(r['input'], r['low'])} – {parameter_value(r['input'], r['high'])}",
                "at_low": value_text(metric, r["value_low"], paired),
                "at_high": value_text(metric, r["value_high"], paired),
                "swing": value_text(metric, r["swing"], True),
                "swing_ci": range_text(metric, r["swing_ci95_low"], r["swing_ci95_high"], True),
                "decides": bool(decides), "noise": bool(noise)})
        out["more"] = max(0, len(t) - top)
    if sens.morris is not None:
        for _, r in sens.morris.head(top).iterrows():
            out["morris"].append({"input": r["input"], "mu_star": value_text(metric, r["mu_star"]),
                                  "conf": value_text(metric, r["mu_star_conf"]),
                                  "sigma": value_text(metric, r["sigma"]),
                                  "noise": bool(r["mu_star"] - r["mu_star_conf"] <= 0)})
    if sens.sobol is not None:
        for _, r in sens.sobol.head(top).iterrows():
            out["sobol"].append({"input": r["input"], "s1": f"{100 * r['S1']:.0f}% ± {100 * r['S1_conf']:.0f}",
                                 "st": f"{100 * r['ST']:.0f}% ± {100 * r['ST_conf']:.0f}"})
    return out


def sweep_section(sweep: SweepFolder, prefix: str) -> dict[str, Any]:
    """A sweep in words, a table and a figure: the break-even (two scenarios, one parameter), the paired difference
    (or the metric) at each point."""
    from sim.present import report_figures as figures
    from sim.present.sensitivity_text import break_even_text, parameter_value, parameter_words

    result = sweep.result
    out: dict[str, Any] = {"path": str(sweep.path), "statements": [], "figure": None, "rows": [],
                           "parameters": [parameter_words(p) for p in result.parameters],
                           "missing": sweep.missing_points,
                           "reps": result.reps}
    found = None
    if len(result.scenarios) == 2 and len(result.parameters) == 1 and result.points[result.parameters[0]].nunique() > 1:
        try:
            found = result.break_even()
            out["statements"].append("Break-even: " + break_even_text(found))
        except ValueError:
            found = None
    summary = result.summary()
    paired = len(result.scenarios) > 1
    metric = result.metric
    for _, r in summary.sort_values([*result.parameters, "point"]).iterrows():
        if paired and r["scenario"] == result.baseline:
            continue
        values = [parameter_value(p, r[p]) for p in result.parameters]
        if paired:
            cells = [value_text(metric, r["diff_mean"], True),
                     range_text(metric, r["diff_ci95_low"], r["diff_ci95_high"], True),
                     f"{100 * r['p_better']:.0f}%" if math.isfinite(r["p_better"]) else "–"]
        else:
            cells = [value_text(metric, r["mean"]), range_text(metric, r["ci95_low"], r["ci95_high"]), ""]
        out["rows"].append({"values": values, "scenario": r["scenario"], "cells": cells})
    out["paired"] = paired
    out["what"] = (f"{metric_name(metric)}, {result.scenarios[1]} − {result.baseline}" if paired
                   else metric_name(metric))
    with figures.report_style():
        fig = figures.sweep(result, found)
        out["figure"] = figures.svg(fig, f"{prefix}-sweep", "Sweep")
    return out


# --------------------------------------------------------------------------- provenance and warnings


def provenance(run: RunFolder) -> dict[str, Any]:
    """Where a run's numbers come from: scenario hash and files, overrides, seed, replications, status, versions,
    dates."""
    versions = run.versions
    files = [{"path": f.get("path", ""), "sha256": (f.get("sha256") or "")[:12]}
             for f in (run.source or {}).get("files", [])]
    return {"scenario": run.name, "folder": str(run.path), "sha256": run.sha256, "short": run.sha256[:12],
            "files": files, "overrides": list((run.source or {}).get("overrides") or []), "seed": run.seed,
            "reps": len(run.reps), "requested": run.reps_requested, "status": run.status,
            "salesim": versions.get("salesim", "?"), "core": versions.get("salesim_core", "?"),
            "python": versions.get("python", "?"), "numpy": versions.get("numpy", "?"),
            "created": run.manifest.get("created_utc", ""), "updated": run.manifest.get("updated_utc", "")}


def incomplete_text(run: RunFolder) -> str | None:
    """What a run lacks — missing replications, unreadable chunks, failures — in a sentence; None when complete."""
    parts = []
    if run.missing:
        why = {"interrupted": "the run was interrupted", "running": "the run is still going, or was killed",
               "failed": "some replications failed"}.get(run.status, f"status '{run.status}'")
        parts.append(f"{len(run.reps)} of {run.reps_requested} replications (missing {reps_text(run.missing)}: "
                     f"{why})")
    elif run.status not in ("complete",) and run.reps_requested is None:
        parts.append(f"{len(run.reps)} replications; the run did not finish (status '{run.status}') and did not "
                     "record how many it was asked for")
    if run.skipped:
        parts.append(f"{len(run.skipped)} chunk file(s) could not be read and were left out "
                     f"({', '.join(run.skipped[:3])}{'…' if len(run.skipped) > 3 else ''})")
    if run.failures:
        parts.append(f"{len(run.failures)} replication(s) failed (their tracebacks are in "
                     f"{run.path / 'manifest.json'})")
    if not parts:
        return None
    return f"{run.name} ({run.path}): " + "; ".join(parts) + "."
