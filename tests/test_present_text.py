"""Text tables speak plainly: units in labels, % change, "same in every replication", no verdict
for volumes, and a note where P(better) and the interval of the mean disagree."""

from __future__ import annotations

import pandas as pd

from sim.metrics import KPI_NAMES
from sim.present.text import comparison_text, kpi_label, lead_states_text, summary_table
from sim.runs.comparison import comparison_table


class _Result:
    def __init__(self, kpis: pd.DataFrame) -> None:
        self.kpis = kpis


def _table(base: dict, other: dict) -> pd.DataFrame:
    n = len(next(iter(base.values())))
    a = pd.DataFrame({"rep": range(n), **base})
    b = pd.DataFrame({"rep": range(n), **other})
    return comparison_table({"a": _Result(a), "b": _Result(b)}, "a", metrics=list(base))


def _row(text: str, label: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(label))


def test_every_kpi_label_names_its_unit() -> None:
    for name in KPI_NAMES:
        label = kpi_label(name)
        assert label.endswith(")") and "(" in label, name
    assert kpi_label("sales_cycle_days_mean") == "sales cycle, mean (days)"
    assert kpi_label("leads_lost_in_handoff") == "leads lost in hand-off (count)"


def test_zero_difference_in_every_pair_reads_same() -> None:
    table = _table({"cost_usd": [5.0, 6.0, 7.0]}, {"cost_usd": [5.0, 6.0, 7.0]})
    row = _row(comparison_text(table), "cost (USD)")
    assert "same in every replication" in row and "+0" not in row and "50%" not in row
    assert row.rstrip().endswith("–")


def test_change_column_and_a_clear_verdict() -> None:
    table = _table({"wins": [10.0, 20.0, 30.0, 40.0]}, {"wins": [11.0, 22.0, 33.0, 44.0]})
    row = _row(comparison_text(table), "deals won (count)")
    assert "+10.0%" in row and row.rstrip().endswith("100%")


def test_volumes_show_the_difference_without_a_verdict() -> None:
    table = _table({"dials": [100.0, 200.0, 300.0], "losses": [5.0, 6.0, 7.0]},
                   {"dials": [110.0, 190.0, 330.0], "losses": [6.0, 8.0, 9.0]})
    text = comparison_text(table)
    for label in ("dials (count)", "deals lost (count)"):
        row = _row(text, label)
        assert "(" in row and row.rstrip().endswith("–")
    assert "no verdict" in text


def test_ties_are_counted_next_to_p_better() -> None:
    table = _table({"wins": [10.0] * 4}, {"wins": [10.0, 10.0, 12.0, 13.0]})
    assert "75% (2 tied)" in _row(comparison_text(table), "deals won (count)")


def test_skew_explains_an_interval_that_includes_zero_beside_p_better_95() -> None:
    """19 of 20 pairs +1, one −100: the mean difference is −4.05 and its interval includes 0,
    yet P(better) = 95%. The table says why and gives the median difference (+1)."""
    base = [10.0] * 20
    other = [11.0] * 19 + [-90.0]
    table = _table({"wins": base}, {"wins": other})
    rec = table.iloc[0]
    assert rec["diff_ci95_low"] < 0 < rec["diff_ci95_high"] and rec["p_better"] == 0.95
    text = comparison_text(table)
    assert _row(text, "deals won (count)").rstrip().endswith("95% *")
    note = text[text.index("* b, deals won"):]
    assert "better in 19 of 20 replications" in note and "skew" in note and "+1.00" in note


def test_summary_hides_lead_states_which_get_their_own_table() -> None:
    summary = pd.DataFrame([
        {"metric": "wins", "mean": 2.0, "ci95_low": 1.0, "ci95_high": 3.0, "p10": 1.0, "p50": 2.0, "p90": 3.0},
        {"metric": "leads_won", "mean": 2.0, "ci95_low": 1.0, "ci95_high": 3.0, "p10": 1.0, "p50": 2.0, "p90": 3.0},
    ])
    text = summary_table(summary)
    assert "deals won (count)" in text and "leads" not in text
    states = pd.DataFrame({"mean": [6.0, 2.0, 0.0], "share": [0.75, 0.25, 0.0], "p10": [5.0, 1.0, 0.0],
                           "p90": [7.0, 3.0, 0.0]}, index=pd.Index(["not_a_fit", "won", "stale"], name="state"))
    text = lead_states_text(states, 12)
    assert "75.0%" in _row(text, "not a fit") and "all leads" in text
    assert "no lead ended as: stale" in text


def test_a_kpi_undefined_in_both_is_named_after_the_legend_not_a_row() -> None:
    nan = float("nan")
    table = _table({"wins": [10.0, 11.0], "quota_attainment_mean": [nan, nan], "win_rate_sql": [0.2, nan]},
                   {"wins": [12.0, 13.0], "quota_attainment_mean": [nan, nan], "win_rate_sql": [0.3, 0.25]})
    text = comparison_text(table)
    table_part = text.split("change = mean difference")[0]
    assert "quota attainment" not in table_part
    flat = " ".join(text.split())
    assert "undefined in every replication of both" in flat and "quota attainment, mean (%)" in flat
    assert _row(text, "win rate of SQLs (%)")  # defined in some replications: still a row


def test_the_summary_names_a_kpi_undefined_in_every_replication_below_the_table() -> None:
    nan = float("nan")
    summary = pd.DataFrame([
        {"metric": "wins", "mean": 10.0, "ci95_low": 9.0, "ci95_high": 11.0, "p10": 8.0, "p50": 10.0, "p90": 12.0},
        {"metric": "reps_at_quota_share", "mean": nan, "ci95_low": nan, "ci95_high": nan, "p10": nan, "p50": nan,
         "p90": nan},
    ])
    text = summary_table(summary)
    assert _row(text, "deals won (count)")
    assert not any(line.startswith("reps at quota") for line in text.splitlines())
    assert "undefined in every replication" in text and "reps at quota (%)" in text
