"""Lead sources as a map: several sources, each with its own volume, mix, role, cadence and odds.

* the ``inbound:``/``outbound:`` blocks are shorthand for the sources named ``inbound`` and
  ``outbound``: written either way, a scenario gives the same records to the bit (the golden file
  pins it for the silo and the reference workload);
* per-source KPIs and series add up to the org's totals;
* a desk serving several sources takes their queues in the order the sources are listed;
* a source's draws belong to it: adding another source never changes them;
* bad sources are reported with file, line and field (exit 2).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scenario_builders import (
    CALENDAR_24_7,
    HUGE,
    assert_problems_reported,
    base_scenario,
    build,
    constant,
    inbound,
    line_of,
    merge,
    role,
    segment,
)

import sim
from sim.cli import main
from sim.cli.common import EXIT_BAD_INPUT
from sim.economics import ECONOMICS_KPIS
from sim.eventlog import LeadState, Source
from sim.metrics import GROUP_KPIS, KPI_NAMES, SOURCE_SERIES, kpis, monthly_series
from sim.model.world import World, simulate

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "golden.json"


def two_sources(*, capacity: float = 3000.0, demo_mqls: float = 200.0, content_mqls: float = 300.0,
                horizon_months: int = 2) -> dict:
    """Two inbound sources worked by one MDR desk — ``demo`` (listed first) and ``content`` — plus
    an outbound list worked by SDRs; 24/7 calendar; two segments."""
    data = base_scenario(name="sources", horizon_months=horizon_months, calendar=dict(CALENDAR_24_7),
                         mdr=role(2, dials_per_day=capacity))
    data["segments"]["t"] = segment(mrr_usd=3000.0, meetings=2, pass_probability=0.6, gap_days=constant(3.0))
    data["segments"]["s"] = segment(mrr_usd=1000.0, meetings=1, pass_probability=0.5, gap_days=constant(2.0))
    data["roles"]["sdr"] = role(2, dials_per_day=90.0)
    data.pop("inbound")
    data["lead_sources"] = {
        "demo": merge(inbound(mqls_per_month=demo_mqls, dials_to_connect=constant(2), qualify_probability=0.6),
                      {"kind": "inbound", "segment_mix": {"s": 0.5, "t": 0.5}, "cost_per_mql_usd": 200.0}),
        "content": merge(inbound(mqls_per_month=content_mqls, dials_to_connect={"dist": "geometric", "mean": 6},
                                 qualify_probability=0.15),
                         {"kind": "inbound", "max_attempts": 5, "cost_per_mql_usd": 40.0}),
        "cold": {"kind": "outbound", "worked_by": "sdr", "prospects_per_rep_month": 150.0,
                 "segment_mix": {"s": 0.6, "t": 0.4}, "dials_to_connect": {"dist": "geometric", "mean": 12.5},
                 "lead_probability": 0.5, "sql_probability": 0.3, "cost_per_prospect_usd": 2.0},
    }
    return data


# --------------------------------------------------------------------------- the shorthand is a source


def test_the_golden_file_pins_the_shorthand_as_a_map() -> None:
    """``silo_as_map`` and ``ref_as_map`` (tests/golden/cases.py) write the inbound and outbound
    blocks as ``lead_sources``: every KPI, series and lead column is the shorthand's."""
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    pinned = [key for key in golden if key.split("/")[0].endswith("_as_map")]
    assert len(pinned) >= 8
    for key in pinned:
        case, seed, rep = key.split("/")
        assert golden[key] == golden[f"{case.removesuffix('_as_map')}/{seed}/{rep}"], key


def test_one_inbound_source_as_a_map_equals_the_shorthand_bit_for_bit() -> None:
    data = two_sources()
    data.pop("lead_sources")
    data["inbound"] = merge(inbound(mqls_per_month=150.0, dials_to_connect=constant(2), qualify_probability=0.5),
                            {"segment_mix": {"s": 0.5, "t": 0.5}})
    short = build(data)
    as_map = merge(data, {})
    as_map["lead_sources"] = {"inbound": {"kind": "inbound", **as_map.pop("inbound")}}
    mapped = build(as_map)
    assert list(mapped.sources) == list(short.sources) == ["inbound"]
    a, b = simulate(short, 5, 2), simulate(mapped, 5, 2)
    assert len(a.leads) > 100
    for name, column in a.lead_table().items():
        assert column.tobytes() == b.lead_table()[name].tobytes(), name
    assert a.accounts == b.accounts and a.workforce == b.workforce and a.levels == b.levels


# --------------------------------------------------------------------------- per source adds up


RATIO_ECONOMICS = tuple(k for k in ECONOMICS_KPIS if k not in ("acquisition_cost_usd", "retention_cost_usd"))


def test_per_source_and_per_segment_funnels_sum_to_the_totals() -> None:
    scenario = build(two_sources())
    log = simulate(scenario, 3, 0)
    k = kpis(log, scenario)
    series = monthly_series(log, scenario)
    sources = ["demo", "content", "cold"]
    assert [n for n in KPI_NAMES if n in k] == list(KPI_NAMES)
    for name in GROUP_KPIS:
        for by, groups in (("source", sources), ("segment", ["s", "t"])):
            parts = [k[f"{name}@{by}:{g}"] for g in groups]
            if name in ("win_rate_sql", "win_rate_opportunity", "trial_conversion_rate", "mqls_never_touched_share",
                        "sales_cycle_days_mean", "speed_to_lead_hours_median", *RATIO_ECONOMICS):
                continue  # ratios and medians do not add up
            assert sum(parts) == pytest.approx(k[name], rel=1e-12, abs=1e-9), (name, by, parts)
    assert k["sqls"] > 50 and all(k[f"sqls@source:{s}"] > 0 for s in sources)
    assert k["mqls@source:cold"] == 0 and k["prospects@source:demo"] == 0
    # series: each source's, month by month
    for name in SOURCE_SERIES:
        org = {"leads": None}.get(name, name)
        if org is None:
            total = series["mqls"][1:] + np.bincount(
                np.clip(np.floor(log.lead_table()["created_t"] / (365.25 / 12)).astype(int), 0, 1),
                weights=(log.lead_table()["source"] == Source.OUTBOUND).astype(float), minlength=2)
            got = (series["mqls@source:demo"] + series["mqls@source:content"] + series["prospects@source:cold"])[1:]
            np.testing.assert_allclose(got, total)
            continue
        got = sum(series[f"{name}@source:{s}"] for s in sources)
        np.testing.assert_allclose(got[1:], series[name][1:], rtol=1e-12, atol=1e-6, err_msg=name)
    # each source's own cost per lead; the org's cost adds them to the reps'
    assert k["cost_usd@source:demo"] == 200.0 * k["mqls@source:demo"]
    assert k["cost_usd@source:cold"] == 2.0 * k["prospects@source:cold"]


def test_one_source_one_segment_adds_no_breakdown() -> None:
    scenario = build(base_scenario(inbound_spec=inbound(mqls_per_month=50.0)))
    log = simulate(scenario, 1, 0)
    assert list(kpis(log, scenario)) == list(KPI_NAMES)
    assert not any("@source:" in name for name in monthly_series(log, scenario))


def test_each_source_keeps_its_own_cadence_and_odds() -> None:
    """``content`` gives up after 5 attempts (``max_attempts``), ``demo`` after the cadence's 30; the
    ``cold`` list's prospects qualify at most with P(lead) × P(SQL)."""
    scenario = build(two_sources())
    leads = simulate(scenario, 8, 0).lead_table()
    names = list(scenario.sources)
    of = {name: leads["source_index"] == i for i, name in enumerate(names)}
    unreachable = leads["state"] == LeadState.UNREACHABLE
    assert np.all(leads["dials"][of["content"] & unreachable] == 5)
    assert not np.any(of["demo"] & unreachable)  # 2 dials each, 30 allowed
    assert np.all(leads["source"][of["cold"]] == Source.OUTBOUND)
    assert np.all(leads["source"][of["demo"] | of["content"]] == Source.INBOUND)
    reached = of["cold"] & ~np.isnan(leads["connect_t"])
    share = np.mean(~np.isnan(leads["sql_t"][reached]))
    assert 0.05 < share < 0.25  # 0.5 × 0.3 = 0.15 (a few hundred prospects)


# --------------------------------------------------------------------------- one desk, several queues


def test_a_desk_takes_its_queues_in_the_order_the_sources_are_listed() -> None:
    """One MDR with one cadence slot, every slot busy: an MQL of the first-listed source is served
    before an older MQL of the second (strict priority), and within a source oldest first."""
    data = base_scenario(name="priority", horizon_months=1, calendar=dict(CALENDAR_24_7),
                         mdr=role(1, dials_per_day=3.0), ae=role(1, max_open_opportunities=HUGE))
    data.pop("inbound")
    data["lead_sources"] = {
        "hot": merge(inbound(arrival_times_days=[1.2, 1.3], dials_to_connect=constant(3)), {"kind": "inbound"}),
        "cold": merge(inbound(arrival_times_days=[0.0, 1.1], dials_to_connect=constant(6)), {"kind": "inbound"}),
    }
    leads = simulate(build(data), 1, 0).lead_table()
    order = np.argsort(leads["first_touch_t"])
    touched = [(int(leads["source_index"][i]), float(leads["created_t"][i]), float(leads["first_touch_t"][i]))
               for i in order]
    # cold@0.0 holds the slot for two days (6 dials at 1/3 day); when it frees at day 2 the hot queue
    # (arrived 1.2 and 1.3) goes before the older cold@1.1: a day each
    assert touched == [(1, 0.0, 0.0), (0, 1.2, 2.0), (0, 1.3, 3.0), (1, 1.1, 4.0)]


def test_a_role_working_inbound_and_outbound_serves_the_queue_before_its_list() -> None:
    data = two_sources(capacity=30.0)
    data["lead_sources"]["cold"]["worked_by"] = "mdr"
    scenario = build(data)
    assert scenario.jobs_of("mdr") == (sim.scenario.jobs.Job.WORK_INBOUND, sim.scenario.jobs.Job.PROSPECT)
    leads = simulate(scenario, 2, 0).lead_table()
    assert np.sum(leads["source_index"] == 2) > 0  # some prospecting happens when the queues are empty


# --------------------------------------------------------------------------- common random numbers


def test_adding_a_source_leaves_another_sources_leads_unchanged() -> None:
    """With room for everyone, the ``demo`` leads of a run with a second inbound source are the
    ``demo`` leads of the run without it: same ids, times, segments, dials and deal sizes."""
    both = two_sources(capacity=HUGE)
    alone = merge(both, {})
    del alone["lead_sources"]["content"]
    a, b = simulate(build(both), 4, 1).lead_table(), simulate(build(alone), 4, 1).lead_table()
    demo_a, demo_b = a["source_index"] == 0, b["source_index"] == 0
    order_a, order_b = np.argsort(a["lead"][demo_a]), np.argsort(b["lead"][demo_b])
    for column in ("lead", "created_t", "segment", "dials", "sql_t", "close_t", "mrr_usd", "state"):
        np.testing.assert_array_equal(a[column][demo_a][order_a], b[column][demo_b][order_b], err_msg=column)


def test_source_ids_and_streams_are_their_own() -> None:
    scenario = build(two_sources())
    world = World(scenario, 1, 0)
    assert [f.prefix for f in world.factories] == ["demo", "content", "cold"]
    assert [f.id_offset for f in world.factories] == [3_000_000_000, 4_000_000_000, 5_000_000_000]
    silo = sim.load_scenario(ROOT / "scenarios" / "silo.yaml")
    assert [(f.prefix, f.id_offset) for f in World(silo, 1, 0).factories] == [("inbound", 0),
                                                                              ("outbound", 1_000_000_000)]


# --------------------------------------------------------------------------- bad sources


BAD = """\
name: bad_sources
roles:
  mdr: {headcount: 1, dials_per_day: 100}
  ae: {headcount: 1, max_open_opportunities: 10}
  am: {headcount: 1}
segments:
  s: {mrr_usd: 1000}
inbound:
  mqls_per_month: 10
  segment_mix: {s: 1}
  qualify_probability: 0.2
lead_sources:
  partners:
    kind: inbound
    mqls_per_month: 5
    segment_mix: {s: 1}
    qualify_probability: 0.3
    worked_by: am
  cold:
    kind: outbound
    worked_by: none
    segment_mix: {s: 1}
    sql_probability: 0.1
  inbound:
    kind: inbound
    mqls_per_month: 5
    segment_mix: {s: 1}
    qualify_probability: 0.3
  warm_start:
    kind: inbound
    mqls_per_month: 5
    segment_mix: {x: 1}
    qualify_probability: 0.3
  webinar:
    mqls_per_month: 5
    segment_mix: {s: 1}
    qualify_probability: 0.3
"""


def test_bad_sources_are_located_and_explained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")

    def line(needle: str, after: int = 0) -> int:
        return line_of(BAD, needle, after)

    assert main(["validate", str(path)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    expected = [
        (line("  am: {headcount: 1}"), "roles.am", "role 'am' works inbound leads and needs dials_per_day"),
        (line("worked_by: none"), "lead_sources.cold.worked_by", "need a rep to dial them"),
        (line("  inbound:", line("lead_sources:")), "lead_sources.inbound", "already defines the lead source"),
        (line("  warm_start:"), "lead_sources.warm_start", "cannot name a lead source"),
        (line("segment_mix: {x: 1}"), "lead_sources.warm_start.segment_mix.x", "segment 'x' does not exist"),
        (line("  webinar:"), "lead_sources.webinar", "kind"),
    ]
    assert_problems_reported(err, "bad.yaml", expected)


def test_the_planner_refuses_sources_it_cannot_model() -> None:
    """The planner models the inbound/outbound pair only: a third source is refused, not ignored."""
    from sim.planner.arithmetic import PlanError
    from sim.planner.model import SalesModel

    with pytest.raises(PlanError, match="one inbound and one outbound lead source"):
        SalesModel.from_scenario(build(two_sources()))


def test_a_segment_reached_only_by_a_mapped_source_is_not_warned_about() -> None:
    from sim.scenario.references import check_warnings

    data = two_sources()
    data["segments"]["u"] = merge(data["segments"]["s"], {})
    data["lead_sources"]["content"]["segment_mix"] = {"u": 1.0}
    assert not [w for w in check_warnings(data) if "no lead can reach" in w[1]]
    data["lead_sources"]["content"]["segment_mix"] = {"s": 1.0}
    assert [w for w in check_warnings(data) if "no lead can reach segment 'u'" in w[1]]
