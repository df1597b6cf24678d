"""The decision report (``salesim report``): what it says, that it is one valid self-contained
page, and what it does with folders that are incomplete, damaged or not comparable.

Two tiny scenarios (``tests/data/minimal.yaml`` and a copy with a second AE) are compared once
per module, seeded, in process; every check reads that comparison's folders. The report built
as a subprocess and opened in a real browser is in ``test_report_integration.py``.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import html5lib
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from sim.cli.main import main
from sim.present import report
from sim.present.report_words import reps_text, run_sentences, value_text, verdict_sentences
from sim.present.style import money, money_range, scenario_colors
from sim.runs.comparison import compare
from sim.runs.folders import FolderComparison, RunFolder
from sim.scenario import load_scenario
from sim.scenario.annotations import assumption_paths, source_notes
from sim.scenario.yamlio import load_document

DATA = Path(__file__).parent / "data"
SEED, REPS = 11, 6

BASE_EDITS = (
    ("    max_open_opportunities: 10\n", "    max_open_opportunities: 3\n    monthly_cost_usd: 10000\n"),
    ("  qualify_probability: 0.3\n", "  qualify_probability: 0.3  # ASSUMPTION: from the 2025 CRM export\n"),
    ("  mqls_per_month: 40\n", "  mqls_per_month: 40  # marketing's plan for the year\n"),
)
MORE_EDITS = (
    ("name: minimal\n", "name: more_ae\n"),
    ("  ae:\n    headcount: 1\n", "  ae:\n    headcount: 2  # one more closer, the hiring plan\n"),
)


def _write(path: Path, edits: tuple[tuple[str, str], ...]) -> Path:
    text = (DATA / "minimal.yaml").read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``compare minimal more_ae --reps 6 --seed 11``: the comparison folder."""
    root = tmp_path_factory.mktemp("report")
    base = _write(root / "minimal.yaml", BASE_EDITS)
    more = _write(root / "more_ae.yaml", (*BASE_EDITS, *MORE_EDITS))
    out = root / "cmp"
    compare([base, more], reps=REPS, seed=SEED, out=out, workers=1)
    return out


@pytest.fixture(scope="module")
def ctx(folders: Path) -> dict:
    return report.build([folders])


@pytest.fixture(scope="module")
def html(ctx: dict) -> str:
    return report.render(ctx)


@pytest.fixture
def figures_not_drawn(monkeypatch: pytest.MonkeyPatch) -> None:
    """For a test about the report's words: each figure is still made, but not drawn to SVG (most of
    a report's time). The figures are drawn for real by ``ctx`` (these folders' comparison), by the
    dated and the by-source run reports below and by ``test_report_integration.py``."""
    from html import escape

    from sim.present import report_figures

    def svg(fig, prefix: str, title: str = "") -> str:
        assert fig.axes, "a figure with something on it"
        return f'<svg class="figure" role="img"><title id="{prefix}-title">{escape(title)}</title></svg>'

    monkeypatch.setattr(report_figures, "svg", svg)


def _paired(folder: Path, metric: str) -> np.ndarray:
    a = pd.read_parquet(folder / "minimal" / "replications.parquet").set_index("rep")[metric]
    b = pd.read_parquet(folder / "more_ae" / "replications.parquet").set_index("rep")[metric]
    return (b - a.reindex(b.index)).to_numpy(float)


# --------------------------------------------------------------------------- the verdict


def test_verdict_states_the_paired_ci_the_data_gives(folders: Path, ctx: dict) -> None:
    d = _paired(folders, "exit_arr_usd")
    mean = d.mean()
    half = sps.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / math.sqrt(d.size)
    up = mean > 0
    low, high = (mean - half, mean + half) if up else (-(mean + half), -(mean - half))
    sentence = ctx["verdict"][0]
    assert sentence.startswith("Moving from minimal to more_ae ")
    assert f"{'raises' if up else 'lowers'} exit ARR by {money(abs(mean))} " in sentence
    assert f"(95% CI {money_range(low, high)}; " in sentence
    assert f"better in {int((d > 0).sum())}" in sentence and f"of {d.size} paired replications" in sentence


def test_verdict_states_the_extra_cost(folders: Path, ctx: dict) -> None:
    extra = _paired(folders, "cost_usd").mean()
    assert extra > 0  # a second AE costs more
    assert f"costs {money(extra)} more over the 3 months" in ctx["verdict"][0]


def test_verdict_snapshot_for_a_fixed_seed(ctx: dict) -> None:
    # The same scenarios, seed and replications give the same sentence on any machine (pure or compiled).
    assert ctx["verdict"] == [
        "Moving from minimal to more_ae raises exit ARR by $34k (95% CI $12.6k–$55.3k; better in 5, the same in 1, "
        "of 6 paired replications) and costs $30k more over the 3 months; counting its cost, it has not broken even "
        "by month 3."
    ]


def test_few_replications_are_called_out(ctx: dict) -> None:
    assert any("Only 6 paired replications" in s for s in ctx["how_sure"])


def test_kpi_table_rows_have_interval_and_count(ctx: dict) -> None:
    rows = {r["metric"]: r for r in ctx["tables"][0]["rows"]}
    assert rows["exit_arr_usd"]["better_in"].endswith(f"of {REPS}")
    assert rows["cost_usd"]["verdict"] == "worse"  # cost: lower is better
    assert " to " in rows["exit_arr_usd"]["ci"]


# --------------------------------------------------------------------------- the assumptions


def test_the_value_that_differs_is_listed_with_its_line_and_comment(ctx: dict) -> None:
    rows = {r["path"]: r for r in ctx["assumptions"]["differing"]}
    assert set(rows) == {"roles.ae.headcount"}
    row = rows["roles.ae.headcount"]
    assert row["values"] == ["1", "2"]
    where = {w["scenario"]: w for w in row["where"]}
    assert where["minimal"]["where"] == "minimal.yaml:9"
    assert where["more_ae"]["where"] == "more_ae.yaml:9"
    assert where["more_ae"]["note"] == "one more closer, the hiring plan"


def test_values_marked_assumption_are_listed_with_their_source(ctx: dict) -> None:
    marked = {r["path"]: r for r in ctx["assumptions"]["marked"]}
    assert set(marked) == {"inbound.qualify_probability"}
    row = marked["inbound.qualify_probability"]
    assert row["values"] == ["0.3", "0.3"] and row["same"]
    assert row["note"] == "from the 2025 CRM export"
    assert ctx["assumptions"]["unrecorded"] == []


def test_source_notes_read_comments_and_block_marks(tmp_path: Path) -> None:
    block = ("handoff:\n", "# ASSUMPTION: hand-off figures from the book\nhandoff:\n")
    path = _write(tmp_path / "s.yaml", (*BASE_EDITS, block))
    document = load_document(path)
    notes = source_notes(document)["values"]
    assert notes["inbound.mqls_per_month"] == {"file": str(path), "line": 26, "note": "marketing's plan for the year",
                                               "assumption": False}
    assert notes["inbound.qualify_probability"]["assumption"]
    assert notes["handoff.leakage_probability"]["assumption"]  # inside the marked block
    assert notes["handoff.leakage_probability"]["note"] == "ASSUMPTION: hand-off figures from the book"
    assert ("handoff", "leakage_probability") in assumption_paths(document)
    assert not notes["roles.mdr.headcount"]["assumption"]  # the file's header marks nothing


# --------------------------------------------------------------------------- the page


def test_figures_are_inline_svg(ctx: dict, html: str) -> None:
    figures = ctx["figures"]
    for svg in (figures["mrr"], *figures["differences"], figures["capacity"], ctx["funnel"]["svg"]):
        assert svg.lstrip().startswith("<svg") and "<path" in svg
    assert html.count("<svg") >= 4
    assert len(ctx["paybacks"]) == 1  # the extra AE costs more: its net gain is drawn


def test_page_is_self_contained(html: str) -> None:
    assert "<script" not in html.lower()
    assert "<link" not in html.lower()
    assert "@import" not in html
    # every URL the page could fetch: src/href attributes and CSS url(); only in-page anchors allowed
    urls = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', html) + re.findall(r"url\(([^)]*)\)", html)
    assert urls and all(u.startswith(("#", "data:")) for u in urls), [u for u in urls if not u.startswith("#")]


def test_page_is_valid_html(html: str) -> None:
    assert html.startswith("<!DOCTYPE html>\n<html lang=\"en\">")
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    document = parser.parse(html)  # raises on the first parse error
    assert document.find("head/meta[@charset='utf-8']") is not None
    assert document.find("head/title").text == "more_ae instead of minimal — salesim decision report"
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "ids must be unique (the SVGs' ids are prefixed)"


def test_provenance_lists_hash_seed_and_reps(ctx: dict, folders: Path) -> None:
    manifest = json.loads((folders / "minimal" / "manifest.json").read_text())
    row = ctx["provenance"][0]
    assert row["sha256"] == manifest["scenario_sha256"]
    assert (row["seed"], row["reps"], row["status"]) == (SEED, REPS, "complete")
    assert row["files"][0]["path"].endswith("minimal.yaml")


def test_scenario_colours_are_the_colour_blind_safe_palette() -> None:
    colors = scenario_colors(["a", "b", "c"])
    assert len(set(colors.values())) == 3
    assert scenario_colors(["a", "b"]) == {k: colors[k] for k in ("a", "b")}  # stable per position


@pytest.mark.parametrize(("value", "text"), [
    (1_150_338, "$1.15M"), (-1_323, "−$1.32k"), (950, "$950"), (0, "$0")])
def test_money(value: float, text: str) -> None:
    assert money(value) == text


def test_words_for_numbers() -> None:
    assert money_range(913_604, 1_387_072) == "$0.91M–$1.39M"
    assert money_range(-30_000, 54_000) == "−$30k to +$54k"
    assert value_text("win_rate", 0.012, signed=True) == "+1.2 pts"
    assert reps_text([0, 1, 2, 5, 7, 8]) == "0–2, 5, 7–8"


# --------------------------------------------------------------------------- bad input


def _copy(folders: Path, tmp_path: Path) -> Path:
    target = tmp_path / "cmp"
    shutil.copytree(folders, target)
    return target


def test_killed_run_is_reported_with_its_missing_replications(folders: Path, tmp_path: Path, figures_not_drawn,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    cmp = _copy(folders, tmp_path)
    run = cmp / "more_ae"
    manifest = json.loads((run / "manifest.json").read_text())
    manifest.update(status="running", reps_requested=10)
    (run / "manifest.json").write_text(json.dumps(manifest))
    for name in ("replications.parquet", "timeseries.parquet"):
        (run / name).unlink()
    out = tmp_path / "r.html"
    assert main(["report", str(cmp), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "6 of 10 replications (missing 6–9: the run is still going, or was killed)" in captured.err
    page = out.read_text(encoding="utf-8")
    assert "missing 6–9" in page and "Incomplete results" in page


def test_a_folder_made_before_source_notes_is_reported_without_them(folders: Path, tmp_path: Path,
                                                                    figures_not_drawn) -> None:
    cmp = _copy(folders, tmp_path)
    for name in ("minimal", "more_ae"):
        manifest = json.loads((cmp / name / "manifest.json").read_text())
        del manifest["source"], manifest["reps_requested"]
        (cmp / name / "manifest.json").write_text(json.dumps(manifest))
    ctx = report.build([cmp])
    assert ctx["warnings"] == []  # complete: nothing missing
    assert ctx["assumptions"]["unrecorded"] == ["minimal", "more_ae"]
    assert [r["path"] for r in ctx["assumptions"]["differing"]] == ["roles.ae.headcount"]
    assert ctx["assumptions"]["marked"] == []
    assert "do not record the scenario files" in report.render(ctx)


@pytest.mark.parametrize("damage", ["no folder", "a file", "empty", "corrupt manifest", "not a manifest",
                                    "unreadable tables", "no replication"])
def test_bad_folders_exit_2_with_a_message(folders: Path, tmp_path: Path, damage: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    cmp = _copy(folders, tmp_path)
    run = cmp / "minimal"
    target = run
    if damage == "no folder":
        target = tmp_path / "nowhere"
    elif damage == "a file":
        target = run / "manifest.json"
    elif damage == "empty":
        target = tmp_path / "empty"
        target.mkdir()
    elif damage == "corrupt manifest":
        (run / "manifest.json").write_text("{not json")
    elif damage == "not a manifest":
        (run / "manifest.json").write_text('{"hello": 1}')
    elif damage in ("unreadable tables", "no replication"):
        shutil.rmtree(run / "chunks", ignore_errors=True)
        for table in run.glob("*.parquet"):
            if damage == "no replication":
                table.unlink()
            else:
                table.write_bytes(b"PAR1 truncated")
        if damage == "no replication":
            manifest = json.loads((run / "manifest.json").read_text())
            manifest["status"] = "running"
            (run / "manifest.json").write_text(json.dumps(manifest))
    assert main(["report", str(target), "--out", str(tmp_path / "r.html")]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("salesim: report: ") and str(target) in captured.err
    assert "Traceback" not in captured.err
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize("differs", ["seed", "horizon"])
def test_folders_of_different_seeds_or_horizons_exit_2(folders: Path, tmp_path: Path, differs: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    cmp = _copy(folders, tmp_path)
    manifest_file = cmp / "more_ae" / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    if differs == "seed":
        manifest["seed"] = SEED + 1
    else:
        manifest["scenario"]["horizon_months"] = 6
    manifest_file.write_text(json.dumps(manifest))
    code = main(["report", str(cmp / "minimal"), str(cmp / "more_ae"), "--out", str(tmp_path / "r.html")])
    assert code == 2
    err = capsys.readouterr().err
    assert ("seed 12" in err and "seed 11" in err) if differs == "seed" else ("6 months" in err and "3" in err)


def test_unknown_metric_exits_2(folders: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(folders), "--metric", "happiness", "--out", str(tmp_path / "r.html")]) == 2
    assert "--metric 'happiness' is not a KPI" in capsys.readouterr().err


def test_one_run_folder_and_run_folders_named_together(folders: Path) -> None:
    one = report.gather([folders / "more_ae"]).main
    assert isinstance(one, RunFolder)
    assert run_sentences(one, "exit_arr_usd")[0].startswith("more_ae: exit ARR of $")
    pair = report.gather([folders / "minimal", folders / "more_ae"]).main
    assert isinstance(pair, FolderComparison) and pair.names == ["minimal", "more_ae"]
    whole = report.gather([folders]).main
    assert verdict_sentences(pair) == verdict_sentences(whole)


# --------------------------------------------------------------------------- with a sweep and a sensitivity analysis


@pytest.fixture(scope="module")
def analyses(folders: Path) -> tuple[Path, Path]:
    """A break-even sweep (more_ae's MQLs 20..60 against minimal's 40) and a tornado of the
    ``# ASSUMPTION`` numbers, of the same two scenarios."""
    from sim.runs.sensitivity import assumption_inputs, sensitivity
    from sim.runs.sweep import load_sources, sweep

    files = [folders.parent / "minimal.yaml", folders.parent / "more_ae.yaml"]
    swept = folders.parent / "sweep"
    sweep(files, ["more_ae:inbound.mqls_per_month=20:60:20"], reps=3, seed=SEED, out=swept, workers=1)
    sens = folders.parent / "sens"
    sensitivity(files, assumption_inputs(load_sources(files)), reps=3, seed=SEED, out=sens, workers=1)
    return swept, sens


@pytest.mark.slow  # a sweep and a sensitivity analysis (the slow tier's kind)
def test_sweep_and_sensitivity_say_what_the_answer_depends_on(folders: Path, analyses: tuple[Path, Path]) -> None:
    swept, sens = analyses
    ctx = report.build([folders, swept, sens])
    assert ctx["kind"] == "comparison" and ctx["verdict"][0].startswith("Moving from minimal to more_ae ")
    (sweep_section,) = ctx["sweeps"]
    assert sweep_section["figure"].lstrip().startswith("<svg")
    assert any(s.startswith("Break-even: ") for s in sweep_section["statements"])
    (tornado,) = ctx["sensitivity"]
    assert tornado["figure"].lstrip().startswith("<svg")
    assert [r["input"] for r in tornado["rows"]] == ["inbound.qualify_probability"]
    assert tornado["rows"][0]["note"] == "from the 2025 CRM export"  # the assumption's source, beside its swing
    assert ctx["depends"], "the sweep's and the tornado's statements are listed under 'What it depends on'"
    html = report.render(ctx)
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(html)
    assert "Break-even: " in html


def test_months_are_dates_when_the_scenario_has_a_start_date(tmp_path: Path) -> None:
    from sim.runs.monte_carlo import run

    dated = load_scenario(DATA / "minimal.yaml", ["start_date=2027-03-01"])
    assert dated.sha256() != load_scenario(DATA / "minimal.yaml").sha256()
    run(dated, reps=2, seed=SEED, out=tmp_path / "dated", workers=1)
    ctx = report.build([tmp_path / "dated"])
    assert ctx["start_date"] == "2027-03-01"
    svg = ctx["figures"]["mrr"]
    assert "Month end (month 1 starts 01 Mar 2027)" in svg
    assert "May 2027" in svg  # the end of month 3 labels the last tick
    assert re.search(r">\$\d+(\.\d+)?k<", svg), "the MRR axis is in $k"


def test_an_unset_start_date_leaves_the_scenario_hash_unchanged() -> None:
    scenario = load_scenario(DATA / "minimal.yaml")
    assert "start_date" not in scenario.resolved()



@pytest.mark.slow  # a sweep and a sensitivity analysis (the slow tier's kind)
def test_a_sensitivity_folder_alone_says_which_assumptions_decide(analyses: tuple[Path, Path]) -> None:
    _, sens = analyses
    ctx = report.build([sens])
    assert ctx["kind"] == "comparison"  # the tornado's first point: the scenarios as written
    assert ctx["origin"].startswith("the sensitivity analysis in ")
    assert ctx["sensitivity"][0]["rows"][0]["input"] == "inbound.qualify_probability"
    swept = report.build([analyses[0]])
    assert swept["kind"] == "analysis" and swept["verdict"] and swept["verdict"][0].startswith("Break-even: ")

# --------------------------------------------------------------------------- by source and segment


def test_flows_by_source_and_by_segment_add_up_to_the_kpis() -> None:
    from sim.metrics import kpis, monthly_series
    from sim.model.world import simulate

    scenario = load_scenario(Path(__file__).parents[1] / "scenarios" / "silo.yaml", ["horizon_months=3"])
    log = simulate(scenario, SEED, 0)
    series = monthly_series(log, scenario)
    totals = kpis(log, scenario, series)

    def total(flow: str, kind: str) -> float:
        return sum(float(np.nansum(v)) for n, v in series.items() if n.startswith(f"{flow}@{kind}:"))

    for flow in ("sqls", "opportunities", "wins", "new_mrr_usd"):
        assert total(flow, "source") == pytest.approx(totals[flow]), flow
        assert total(flow, "segment") == pytest.approx(totals[flow]), flow
    assert float(np.nansum(series["mqls@source:inbound"])) == totals["mqls"]
    assert float(np.nansum(series["prospects@source:outbound"])) == totals["prospects"]
    assert {n.split("@segment:")[1] for n in series if "@segment:" in n} == set(scenario.segments)


def test_a_run_folder_gives_totals_by_source_and_segment(tmp_path: Path) -> None:
    from sim.runs.folders import read_run
    from sim.runs.monte_carlo import run

    scenario = load_scenario(Path(__file__).parents[1] / "scenarios" / "silo.yaml", ["horizon_months=2"])
    run(scenario, reps=2, seed=SEED, out=tmp_path / "silo", workers=1)
    folder = read_run(tmp_path / "silo")
    kpis = folder.kpis.set_index("rep")
    by_segment = kpis[[f"wins@segment:{s}" for s in scenario.segments]].sum(axis=1)
    pd.testing.assert_series_equal(by_segment, kpis["wins"], check_names=False)
    ctx = report.build([tmp_path / "silo"])
    kinds = {t["kind"] for t in ctx["qualified"]}
    assert kinds == {"source", "segment"}
    assert [f["source"] for f in ctx["source_funnels"]] == ["inbound", "outbound", "warm_start"]
    # a run resumed across the change: some replications without these series → no such columns
    table = pd.read_parquet(tmp_path / "silo" / "timeseries.parquet")
    older = table[~((table["rep"] == 0) & table["series"].str.contains("@segment:"))]
    older.to_parquet(tmp_path / "silo" / "timeseries.parquet", index=False)
    # (the replications' own per-segment KPIs, <kpi>@segment:<name>, stay: they are no series totals)
    own = set(pd.read_parquet(tmp_path / "silo" / "replications.parquet").columns)
    assert not [c for c in read_run(tmp_path / "silo").kpis.columns if "@segment:" in c and c not in own]


# --------------------------------------------------------------------------- the commands' options


def test_compare_no_report_and_run_report_file(folders: Path, tmp_path: Path, figures_not_drawn,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    base, more = folders.parent / "minimal.yaml", folders.parent / "more_ae.yaml"
    common = ["--reps", "2", "--seed", "3", "--workers", "1", "--no-figures", "--no-progress"]
    assert main(["compare", str(base), str(more), "--out", str(tmp_path / "c"), "--no-report", *common]) == 0
    assert not (tmp_path / "c" / "report.html").exists()
    assert "report:" not in capsys.readouterr().out
    page = tmp_path / "one.html"
    assert main(["run", str(more), "--out", str(tmp_path / "r"), "--report", str(page), *common]) == 0
    assert f"report: {page} (" in capsys.readouterr().out
    assert "more_ae: exit ARR of $" in page.read_text(encoding="utf-8")
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["reps_requested"] == 2
    assert manifest["source"]["values"]["roles.ae.headcount"]["note"] == "one more closer, the hiring plan"


def test_source_and_segment_series_are_no_teams(tmp_path: Path) -> None:
    from sim.runs.monte_carlo import run

    silo = load_scenario(Path(__file__).parents[1] / "scenarios" / "silo.yaml", ["horizon_months=2"])
    result = run(silo, reps=1, seed=SEED, workers=1)
    assert any("@segment:" in s for s in result.timeseries["series"].unique())
    assert result.teams() is None  # a silo is one team
