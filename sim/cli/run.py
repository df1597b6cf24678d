"""``salesim validate``, ``schema``, ``run`` and ``compare``: scenarios in, tables and folders out."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sim.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    err,
    monte_carlo,
    overrides_of,
    progress_of,
    report_after,
    report_problems,
    report_warnings,
    workers_problem,
)


def cmd_validate(args: argparse.Namespace) -> int:
    from sim.scenario import ScenarioError, load_checked

    status = EXIT_OK
    for file in args.files:
        try:
            scenario, warnings = load_checked(file, args.overrides)
        except ScenarioError as exc:
            status = EXIT_BAD_INPUT
            report_problems(file, exc.problems)
            continue
        report_warnings(warnings)
        print(f"{file}: ok (scenario {scenario.name!r}, {scenario.horizon_months} months, "
              f"{sum(r.headcount for r in scenario.roles.values())} reps)")
    return status


def cmd_schema(_args: argparse.Namespace) -> int:
    from sim.scenario import json_schema

    print(json.dumps(json_schema(), indent=2))
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from sim.metrics import KPI_NAMES
    from sim.present.text import lead_states_text, roles_text, summary_table
    from sim.runs.monte_carlo import run, run_to_precision
    from sim.scenario import ScenarioError, load_checked
    from sim.scenario.annotations import read_source_notes

    try:
        scenario, warnings = load_checked(args.scenario, overrides_of(args))
    except ScenarioError as exc:
        report_problems(args.scenario, exc.problems)
        return EXIT_BAD_INPUT
    report_warnings(warnings)
    problem = workers_problem(args)
    if problem is not None:
        err(problem)
        return EXIT_BAD_INPUT
    if args.precision is not None and args.metric not in KPI_NAMES:
        err(f"--metric {args.metric!r} is not a KPI; choose one of: {', '.join(KPI_NAMES)}")
        return EXIT_BAD_INPUT
    out = args.out or Path("results") / scenario.name
    event_log = getattr(args, "event_log", None)
    if event_log is not None and event_log.suffix.lower() not in (".csv", ".parquet", ".json", ".jsonocel"):
        err(f"--event-log {event_log}: write it as .csv, .parquet or .json (OCEL 2.0)")
        return EXIT_BAD_INPUT

    def work(executor):
        kwargs = dict(seed=args.seed, workers=args.workers, executor=executor, out=out,
                      overwrite=args.overwrite, progress=progress_of(args),
                      source=read_source_notes(args.scenario, overrides_of(args)))
        if args.precision is not None:
            return run_to_precision(
                scenario, metric=args.metric, relative_half_width=args.precision,
                initial_reps=min(args.reps, args.max_reps), max_reps=args.max_reps, **kwargs)
        return run(scenario, reps=args.reps, **kwargs)

    result, code = monte_carlo(args, work)
    if result is None:
        return code

    print(f"scenario {scenario.name!r}: {result.reps} replications, seed {args.seed} → {out}")
    if scenario.deterministic:
        from sim.present.text import DETERMINISTIC_NOTE, wrap

        print(wrap(DETERMINISTIC_NOTE) + "\n")
    h = scenario.horizon_months
    print(f"counts, amounts and costs are totals over the {h} months of one replication\n")
    print(summary_table(result.summary()))
    print("\n" + lead_states_text(result.lead_states(), h))
    print("\n" + roles_text(result.roles(), h))
    teams = result.teams()
    if teams is not None:
        print("\nteams (means per replication):")
        print(team_text(teams))
    for by, title in (("source", "by lead source"), ("segment", "by segment")):
        table = result.breakdown(by)
        if table is not None:
            print(f"\n{title} (means per replication; each source is its own top of the funnel):"
                  if by == "source" else f"\n{title} (means per replication):")
            print(breakdown_text(table))
    if not args.no_figures and result.reps:
        from sim.present.plots import save_run_figures

        figures = save_run_figures(result, out)
        print("\nfigures: " + ", ".join(str(p) for p in figures))
    if result.precision is not None:
        p = result.precision
        verdict = "reached" if p["reached"] else "NOT reached (hit --max-reps)"
        print(f"\nprecision on {p['metric']}: ±{100 * p['relative_half_width']:.2f}% of the mean after "
              f"{p['reps']} replications (target ±{100 * p['target']:.2f}%: {verdict})")
    if event_log is not None:
        from sim.calibration.process_log import event_table, write_event_log
        from sim.model.world import simulate

        events = event_table(scenario, simulate(scenario, args.seed, 0))
        write_event_log(events, event_log)
        print(f"event log of replication 0: {len(events):,} events → {event_log}")
    if warnings:
        err(f"{len(warnings)} warning(s) about the scenario: see the start of the output")
    if result.failures:
        reps = ", ".join(str(f["rep"]) for f in result.failures[:10])
        more = "…" if len(result.failures) > 10 else ""
        err(f"{len(result.failures)} replication(s) failed (reps {reps}{more}); first error: "
             f"{result.failures[0]['error']}. Tracebacks are in {out / 'manifest.json'}.")
        report_after(args, [out], out)
        return EXIT_FAILED
    return report_after(args, [out], out)


def cmd_compare(args: argparse.Namespace) -> int:
    from sim.present.text import comparison_text
    from sim.runs.comparison import compare, load_many
    from sim.scenario import ScenarioError
    from sim.scenario.annotations import read_source_notes

    if len(args.scenarios) < 2:
        err("compare needs at least two scenario files")
        return EXIT_BAD_INPUT
    warnings: list = []
    try:
        scenarios, files = load_many(args.scenarios, overrides_of(args), warnings=warnings)
    except ScenarioError as exc:
        by_file: dict[str, list] = {}
        for problem in exc.problems:
            by_file.setdefault(problem.file, []).append(problem)
        for file, problems in by_file.items():
            report_problems(file, problems)
        return EXIT_BAD_INPUT
    report_warnings(warnings)
    problem = workers_problem(args)
    if problem is not None:
        err(problem)
        return EXIT_BAD_INPUT
    out = args.out or Path("results") / comparison_folder(list(scenarios))
    sources = {name: read_source_notes(file, overrides_of(args)) for name, file in files.items()}
    comparison, code = monte_carlo(args, lambda executor: compare(
        scenarios, reps=args.reps, seed=args.seed, out=out, workers=args.workers, sources=sources,
        executor=executor, overwrite=args.overwrite, progress=progress_of(args)))
    if comparison is None:
        return code
    names = ", ".join(scenarios)
    print(f"compared {names}: {args.reps} replications each, seed {args.seed}, common random numbers → {out}")
    months = comparison.results[comparison.baseline].scenario.horizon_months
    print(f"baseline: {comparison.baseline}; differences are paired, replication by replication (scenario − "
          f"baseline); counts, amounts and costs are totals over {months} months\n")
    if any(s.deterministic for s in scenarios.values()):
        from sim.present.text import DETERMINISTIC_NOTE, wrap

        print(wrap(DETERMINISTIC_NOTE) + "\n")
    print(comparison_text(comparison.table))
    segments = comparison.by_segment()
    if segments is not None:
        from sim.present.text import segment_comparison_text

        print("\nby segment (paired differences, scenario − baseline; a tier's own figures, never blended):")
        print(segment_comparison_text(segments))
    for name, result in comparison.results.items():
        teams = result.teams()
        if teams is not None:
            print(f"\nteams of {name!r} (means per replication):")
            print(team_text(teams))
    if not args.no_figures:
        from sim.present.plots import save_comparison_figures

        figures = save_comparison_figures(comparison, out)
        print("\nfigures: " + ", ".join(str(p) for p in figures))
    failures = [f for r in comparison.results.values() for f in r.failures]
    if failures:
        err(f"{len(failures)} replication(s) failed; see the manifest.json of each scenario folder in {out}")
        report_after(args, [out], out)
        return EXIT_FAILED
    return report_after(args, [out], out)


def comparison_folder(names: list[str]) -> str:
    """``compare_<names>``, the default folder of a comparison; shortened (with a hash of the names,
    so that it stays unique) where a file system would refuse it."""
    import hashlib

    name = "compare_" + "_".join(names)
    if len(name) <= 120:
        return name
    digest = hashlib.sha256("\0".join(names).encode()).hexdigest()[:10]
    return f"compare_{names[0]}_and_{len(names) - 1}_more_{digest}"


def breakdown_text(table) -> str:
    """A per-source or per-segment table (:meth:`RunResult.breakdown`) as text; empty columns
    (no trials, no prospects anywhere) left out."""
    from sim.present.text import format_value, text_table

    columns = [c for c in table.columns if table[c].fillna(0).abs().sum() > 0
               or (c.endswith("_rate") and table[c].notna().any())]
    rows = [[str(idx), *(format_value(col, table.loc[idx, col]) for col in columns)] for idx in table.index]
    return text_table(rows, [table.index.name or "", *columns])


def team_text(teams) -> str:
    from sim.present.text import format_value, text_table

    rows = [[str(idx), *(format_value(col, teams.loc[idx, col]) for col in teams.columns)] for idx in teams.index]
    return text_table(rows, ["team", *teams.columns])


