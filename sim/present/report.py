"""The decision report: one self-contained HTML page a sales leader can read, print and forward.

This module puts the page together. It reads results folders (:mod:`sim.runs.folders`: a run,
a comparison, several runs, a sweep, a sensitivity analysis; complete or not), decides what the
report is about (:func:`gather`), collects its sections — the words
(:mod:`~sim.present.report_words`), the tables and analyses (:mod:`~sim.present.report_sections`),
the assumptions (:mod:`~sim.present.report_assumptions`), the figures
(:mod:`~sim.present.report_figures`, inlined as SVG) — and renders the Jinja2 template
``templates/report.html.j2`` into one file: styles inline, no script, no link to anything
outside the page, printable.

Sections, in order: the verdict in words (how much, how sure, at what cost, when it breaks
even); what the answer depends on (the tornado and the break-even, when a sensitivity analysis
or a sweep is among the folders); the key figures with their 95% confidence intervals and how
many paired replications went each way; the MRR fans; the funnel (per source when the results
have sources); teams, segments and roles (headcount, capacity and demand); the assumptions —
every value that differs between the compared scenarios and every value marked ``# ASSUMPTION``,
with the comment the file gives it; and provenance (hashes, seed, replications, versions).

:func:`build` returns the page's content as plain data (what the tests check); :func:`render`
makes the HTML; :func:`write_report` does both and writes the file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.present.report_assumptions import assumptions
from sim.present.report_sections import (
    comparison_rows,
    frame_rows,
    funnel_table,
    incomplete_text,
    kpi_order,
    provenance,
    qualified_tables,
    role_rows,
    sensitivity_section,
    summary_rows,
    sweep_section,
)
from sim.present.report_words import metric_name, run_sentences, verdict_sentences
from sim.present.style import month_dates, scenario_colors
from sim.runs import folder_kpis as fk
from sim.runs import folders as rf

if TYPE_CHECKING:  # pragma: no cover - typing only
    from sim.runs.folders import FolderComparison, RunFolder, SensitivityFolder, SweepFolder

__all__ = ["KEY_KPIS", "ReportError", "ReportInfo", "build", "default_path", "gather", "render", "write_report"]

KEY_KPIS: tuple[str, ...] = (
    "exit_arr_usd", "revenue_first_year_usd", "new_mrr_usd", "wins", "win_rate_opportunity", "sqls", "cost_usd",
    "cac_usd", "cac_payback_months", "sales_cycle_days_mean", "speed_to_lead_hours_median", "customers_end",
    "reorg_cost_usd", "transition_mrr_loss_usd", "breakeven_month",
)
"""The KPIs of the report's first table (those a scenario has), in this order; every KPI is in the appendix."""


FEW_REPS = 30
"""Below this many paired replications the report says the intervals are wide."""


class ReportError(Exception):
    """Folders that cannot make a report (none, not results, not comparable); for people."""


@dataclass
class ReportInfo:
    """What :func:`write_report` wrote."""

    path: Path
    size: int
    seconds: float
    warnings: list[str] = field(default_factory=list)
    kind: str = ""



# --------------------------------------------------------------------------- gathering folders


@dataclass
class Subject:
    """What the folders given hold: the main answer (a comparison or one run) and the analyses of it."""

    main: FolderComparison | RunFolder | None
    sweeps: list[SweepFolder]
    sensitivities: list[SensitivityFolder]
    kinds: list[tuple[Path, str]]
    origin: str = ""
    """Where ``main`` comes from when it is not a folder given (the tornado's first point)."""


def gather(paths: Sequence[str | os.PathLike[str]]) -> Subject:
    """Read the folders and decide what the report is about.

    Raises
    ------
    ReportError
        No folder; a folder that is not results; two comparisons; run folders that cannot be paired.
    """
    if not paths:
        raise ReportError("give at least one results folder")
    runs: list[RunFolder] = []
    comparisons: list[FolderComparison] = []
    sweeps: list[SweepFolder] = []
    sensitivities: list[SensitivityFolder] = []
    kinds = []
    try:
        for path in paths:
            folder = Path(path)
            kind = rf.folder_kind(folder)
            kinds.append((folder, kind))
            if kind == "run":
                runs.append(rf.read_run(folder))
            elif kind == "plan":
                runs.append(rf.read_run(folder / "runs"))
            elif kind == "comparison":
                comparisons.append(rf.read_comparison(folder))
            elif kind == "sweep":
                sweeps.append(rf.read_sweep(folder))
            else:
                sensitivities.append(rf.read_sensitivity(folder))
        if len(comparisons) > 1 or (comparisons and runs):
            raise ReportError("give one comparison folder, or run folders to compare — not both: a report "
                              "answers one question")
        main: FolderComparison | RunFolder | None = None
        origin = ""
        if comparisons:
            main = comparisons[0]
        elif len(runs) >= 2:
            main = rf.compare_runs(runs)
        elif runs:
            main = runs[0]
        else:
            for sens in sensitivities:
                if sens.base is not None:
                    main, origin = sens.base, f"the sensitivity analysis in {sens.path} (its scenarios as written)"
                    break
    except rf.FolderError as exc:
        raise ReportError(str(exc)) from None
    if main is None and not sweeps and not sensitivities:
        raise ReportError("nothing to report")
    return Subject(main, sweeps, sensitivities, kinds, origin)


# --------------------------------------------------------------------------- the page


def build(paths: Sequence[str | os.PathLike[str]], metric: str = "exit_arr_usd",
          headline: Sequence[str] = ()) -> dict[str, Any]:
    """The report's content, as plain data for the template (and for tests).

    Parameters
    ----------
    paths : folders
        A comparison folder, one or more run folders, a sweep or sensitivity folder — or a
        comparison (or runs) with the sweeps and sensitivity analyses of the same scenarios.
    metric : str
        The KPI of the verdict (default exit ARR).
    headline : sentences
        Said first (``plan --simulate``: the plan's chance of hitting its target).

    Raises
    ------
    ReportError
    """
    from sim.present import report_figures as figures

    subject = gather(paths)
    main = subject.main
    comparison = main if isinstance(main, rf.FolderComparison) else None
    runs: list[RunFolder] = (comparison.runs if comparison is not None else [main] if main is not None else [])
    if not runs:
        for analysis in (*subject.sensitivities, *subject.sweeps):
            extra = analysis.runs if hasattr(analysis, "runs") else []
            runs.extend(r for r in extra if r.name not in {x.name for x in runs})
    empty = [r for r in runs if not r.reps]
    if main is not None and empty:
        raise ReportError("; ".join(f"{r.path} holds no finished replication yet (status '{r.status}')" for r in empty)
                          + ": nothing to report. Run the same command again to resume it")
    if comparison is not None and not comparison.common_reps:
        raise ReportError(f"{', '.join(str(r.path) for r in runs)} have no replication in common: nothing to "
                          "compare. Run them to the same number of replications")
    if runs and main is not None and metric not in runs[0].kpis.columns:
        from sim.metrics import KPI_NAMES

        raise ReportError(f"--metric {metric!r} is not a KPI of these results; choose one of: {', '.join(KPI_NAMES)}")
    names = [r.name for r in runs]
    colors = scenario_colors(names)
    first = runs[0] if runs else None
    dates = month_dates(first.start_date, first.horizon or 0) if first is not None and first.horizon else None
    warnings = [w for w in (incomplete_text(r) for r in runs) if w]
    ctx: dict[str, Any] = {
        "kind": "comparison" if comparison else "run" if main is not None else "analysis",
        "metric": metric, "metric_name": metric_name(metric), "names": names,
        "colors": [{"name": n, "color": colors[n]} for n in names],
        "headline": list(headline), "warnings": warnings, "origin": subject.origin,
        "horizon": first.horizon if first else None, "start_date": first.start_date if first else None,
        "made": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "figures": {},
        "funnel": None, "source_funnels": [], "qualified": [], "teams": [], "roles": [],
    }
    from importlib.metadata import PackageNotFoundError, version

    try:
        ctx["version"] = version("salesim")
    except PackageNotFoundError:  # pragma: no cover - a checkout that is not installed
        ctx["version"] = "(not installed)"
    if comparison is not None:
        base = comparison.baseline.name
        others = [r.name for r in comparison.others]
        ctx["title"] = f"{' / '.join(others)} instead of {base}"
        ctx["question"] = (f"What changes if we move from {base} to {' or '.join(others)}?")
        ctx["verdict"] = verdict_sentences(comparison, metric, dates)
        n = len(comparison.common_reps)
        ctx["reps"] = n
        ctx["seed"] = comparison.baseline.seed
        sure = [f"Each scenario was played out on the same {n} simulated markets (seed {comparison.baseline.seed}): "
                f"replication r of {base} and of {others[0]} see the same leads, arriving at the same times with the "
                "same latent chances, so each difference is measured market by market and most of the luck cancels."]
        if n < FEW_REPS:
            sure.append(f"Only {n} paired replications: the intervals are wide and a small difference may not show. "
                        "Run more (--reps 100) before deciding on a close call.")
        ctx["how_sure"] = sure
        key = [m for m in KEY_KPIS if m in comparison.baseline.kpis.columns]
        every = kpi_order(list(comparison.baseline.kpis.columns))
        ctx["tables"] = [{"scenario": o, "baseline": base, "rows": comparison_rows(comparison, o, key),
                          "all": comparison_rows(comparison, o, every)} for o in others]
        ctx["paybacks"] = []
        with figures.report_style():
            fig = figures.mrr_fan(runs, colors, dates, f"MRR by month: {' vs '.join(names)} (the same markets)")
            ctx["figures"]["mrr"] = figures.svg(fig, "fig-mrr", "MRR by month")
            ctx["figures"]["differences"] = []
            for k, other in enumerate(comparison.others):
                fig = figures.difference_fan(comparison, other.name, colors[other.name], dates)
                ctx["figures"]["differences"].append(figures.svg(fig, f"fig-diff{k}", f"MRR difference {other.name}"))
                pay = fk.payback(comparison, other.name)
                if pay is not None and pay["cost_differs"]:
                    fig = figures.net_gain(pay["curve"], pay["month"], other.name, base, colors[other.name], dates)
                    ctx["paybacks"].append({
                        "scenario": other.name, "svg": figures.svg(fig, f"fig-pay{k}", "Cumulative net gain"),
                        "share": f"{100 * pay['share_paid_back']:.0f}%"})
    elif isinstance(main, rf.RunFolder):
        ctx["title"] = main.name
        ctx["question"] = f"What does {main.name} deliver, and how sure is that?"
        ctx["verdict"] = run_sentences(main, metric)
        ctx["reps"], ctx["seed"] = len(main.reps), main.seed
        ctx["how_sure"] = [f"{len(main.reps)} replications (seed {main.seed}): each is one possible "
                           f"{main.horizon} months of the same org in a market with the same averages and "
                           "different luck."]
        key = [m for m in KEY_KPIS if m in main.kpis.columns]
        every = kpi_order(list(main.kpis.columns))
        ctx["summary"] = {"rows": summary_rows(main, key), "all": summary_rows(main, every)}
        with figures.report_style():
            fig = figures.mrr_fan([main], colors, dates, f"MRR by month: {main.name}")
            ctx["figures"]["mrr"] = figures.svg(fig, "fig-mrr", "MRR by month")
    else:
        ctx["title"] = "sensitivity and break-even"
        ctx["question"] = "Which assumptions decide the answer?"
        ctx["verdict"] = []
        ctx["how_sure"] = []
    if runs and main is not None:
        funnel = funnel_table(runs)
        if funnel is not None:
            import pandas as pd

            means = pd.DataFrame(funnel["means"], index=funnel["stages"])
            with figures.report_style():
                fig = figures.funnel(means, colors, first.horizon if first else None)
                funnel["svg"] = figures.svg(fig, "fig-funnel", "Funnel by stage")
        ctx["funnel"] = funnel
        sources = sorted({k for r in runs for k in fk.qualified_kpis(r.kpis).get("source", {})})
        ctx["source_funnels"] = [{"source": s, "table": funnel_table(runs, f"source:{s}")} for s in sources]
        ctx["qualified"] = qualified_tables(runs)
        ctx["teams"] = []
        for run in runs:
            table = fk.team_table(run)
            if table is not None:
                columns, rows = frame_rows(table)
                ctx["teams"].append({"scenario": run.name, "columns": columns, "rows": rows})
        ctx["roles"] = role_rows(runs)
        with figures.report_style():
            fig = figures.capacity(runs, colors, dates)
            if fig is not None:
                ctx["figures"]["capacity"] = figures.svg(fig, "fig-capacity", "Headcount, capacity and demand")
    ctx["sensitivity"] = [sensitivity_section(s, runs, f"fig-sens{k}") for k, s in enumerate(subject.sensitivities)]
    ctx["sweeps"] = [sweep_section(s, f"fig-sweep{k}") for k, s in enumerate(subject.sweeps)]
    depends = []
    for section in ctx["sweeps"]:
        depends.extend(section["statements"])
    for section in ctx["sensitivity"]:
        depends.extend(section["statements"][1:] or section["statements"])
    ctx["depends"] = depends
    if ctx["kind"] == "analysis" and not ctx["verdict"]:
        ctx["verdict"] = depends[:2]
    ctx["assumptions"] = assumptions(runs) if runs else {"differing": [], "marked": [], "recorded": [],
                                                         "unrecorded": []}
    for sweep in subject.sweeps:
        ctx["assumptions"].setdefault("varied", []).extend(
            f"{p} (swept over {sweep.result.points[p].nunique()} values, {sweep.result.points[p].min():g} to "
            f"{sweep.result.points[p].max():g})" for p in sweep.result.parameters)
    ctx["provenance"] = [provenance(r) for r in runs]
    ctx["folders"] = [{"path": str(p), "kind": k} for p, k in subject.kinds]
    return ctx


def render(ctx: dict[str, Any]) -> str:
    """The report as one HTML document (the Jinja2 template shipped in ``sim/present/templates``)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("sim.present", "templates"), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["tojson_compact"] = lambda v: json.dumps(v, separators=(",", ":"))
    return env.get_template("report.html.j2").render(**ctx)


def default_path(paths: Sequence[str | os.PathLike[str]]) -> Path:
    """Where a report goes by default: ``report.html`` in the one folder given; for several, beside
    them in their common parent, named after them."""
    folders = [Path(p) for p in paths]
    if len(folders) == 1:
        return folders[0] / "report.html"
    parent = Path(os.path.commonpath([str(f.resolve()) for f in folders]))
    stem = "_".join(f.name for f in folders)
    if len(stem) > 80:
        stem = f"{folders[0].name}_and_{len(folders) - 1}_more"
    return parent / f"report_{stem}.html"


def write_report(paths: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str] | None = None,
                 metric: str = "exit_arr_usd", headline: Sequence[str] = ()) -> ReportInfo:
    """Build, render and write the report of ``paths`` to ``out`` (default :func:`default_path`).

    Raises
    ------
    ReportError
        Bad folders; an ``out`` that cannot be written.
    """
    from sim.runs.store import write_text

    started = time.perf_counter()
    target = Path(out) if out is not None else default_path(paths)
    ctx = build(paths, metric, headline)
    html = render(ctx)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_text(target, html)
    except OSError as exc:
        raise ReportError(f"cannot write the report to {target}: {exc.strerror or exc}") from None
    return ReportInfo(target, len(html.encode("utf-8")), time.perf_counter() - started, ctx["warnings"], ctx["kind"])
