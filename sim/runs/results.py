"""The replications of one scenario as tables: :class:`RunResult`.

This module owns what a finished run hands back to notebooks and the CLI — the KPI table (one
row per replication), the long table of monthly series, failures — and the summaries read from
them (KPI statistics, one series as a month × replication table, per-team means, fans).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.metrics import KPI_NAMES, LEAD_STATE_KPIS
from sim.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd



BREAKDOWN_COLUMNS: tuple[str, ...] = (
    "mqls", "prospects", "trials", "sqls", "opportunities", "wins", "win_rate_sql", "win_rate_opportunity",
    "trial_conversion_rate",
    "new_mrr_usd", "customers_end", "cost_usd", "acquisition_cost_usd", "cac_usd", "cac_payback_months",
    "ltv_to_cac",
)
"""The KPIs of :meth:`RunResult.breakdown`'s tables (per source, per segment). ``cost_usd`` is the
leads' own cost; ``acquisition_cost_usd`` adds the group's share of the acquisition roles and
overhead (docs/reference/kpis.md#unit-economics-per-group)."""


@dataclass
class RunResult:
    """The replications of one scenario.

    Attributes
    ----------
    kpis : DataFrame
        One row per replication: ``rep`` and the KPIs of :data:`sim.metrics.KPI_NAMES`.
    timeseries : DataFrame
        Long table ``rep, month, series, value`` (month 0 is the start; flows begin at 1); with the
        scenario's ``start_date`` also ``date``: the last day of the month (month 0: the day before
        the start), the day whose end a stock describes.
    failures : list of dict
        Replications that raised: ``rep``, ``seed``, ``error``, ``traceback``.
    """

    scenario: Scenario
    seed: int
    kpis: pd.DataFrame
    timeseries: pd.DataFrame
    failures: list[dict[str, Any]] = field(default_factory=list)
    out: Path | None = None
    precision: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        dates = self.scenario.month_dates()
        ts = self.timeseries
        if dates is not None and ts is not None and "date" not in ts.columns and "month" in ts.columns:
            import pandas as pd

            by_month = pd.Series(pd.to_datetime(dates), index=range(len(dates)))
            self.timeseries = ts.assign(date=ts["month"].map(by_month))

    @property
    def reps(self) -> int:
        return len(self.kpis)

    def summary(self, metrics: Sequence[str] | None = None) -> pd.DataFrame:
        """Mean, sd, 95% CI and P10/P50/P90 of each KPI (one row per metric)."""
        from sim.runs import stats

        return stats.summarize(self.kpis, list(metrics or KPI_NAMES))

    def series(self, name: str) -> pd.DataFrame:
        """One monthly series as a month × rep table (e.g. ``"mrr_usd"``, ``"utilization.ae"``)."""
        ts = self.timeseries
        sub = ts[ts["series"] == name]
        if sub.empty:
            known = ", ".join(sorted(ts["series"].unique())) if not ts.empty else "none"
            raise KeyError(f"no series {name!r}; known series: {known}")
        return sub.pivot(index="month", columns="rep", values="value")

    def teams(self) -> pd.DataFrame | None:
        """Per-team means per replication (None for a single-team org): leads routed, SQLs made,
        opportunities, wins and new MRR of the team's closers, leads gone stale in its queues,
        and the mean monthly utilization of each of its roles — where PODs starve or overload."""
        return team_table(self.timeseries)

    def breakdown(self, by: str) -> pd.DataFrame | None:
        """Per lead source (``by="source"``) or per segment (``"segment"``): the means per
        replication of :data:`BREAKDOWN_COLUMNS`, from the KPI columns ``<kpi>@<by>:<name>`` (None
        when the scenario has one source, or one segment). Rates are means of the replications'
        rates (NaN ones left out); counts and amounts add up to the org's."""
        import pandas as pd

        marker = f"@{by}:"
        groups = list(dict.fromkeys(c.split(marker, 1)[1] for c in self.kpis.columns if marker in c))
        if not groups:
            return None
        rows = {g: {k: float(self.kpis[f"{k}{marker}{g}"].mean()) for k in BREAKDOWN_COLUMNS
                    if f"{k}{marker}{g}" in self.kpis} for g in groups}
        table = pd.DataFrame.from_dict(rows, orient="index")
        table.index.name = by
        return table

    def lead_states(self) -> pd.DataFrame:
        """How the leads ended, per replication on average: one row per end state (``unreachable``,
        ``not_a_fit``, ``stale``, ``lost_in_handoff``, ``lost_deal``, ``won``, ``open``, ``no_capacity``,
        ``lost_at_exit``), with ``mean`` (leads per replication), ``share`` (of all the run's leads,
        ratio of means), ``p10`` and ``p90`` (of the replications), from the ``leads_<state>`` KPIs."""
        import pandas as pd

        kpis = self.kpis
        means = {name: float(kpis[name].mean()) if name in kpis and len(kpis) else float("nan")
                 for name in LEAD_STATE_KPIS}
        total = sum(v for v in means.values() if v == v)
        rows = []
        for name in LEAD_STATE_KPIS:
            values = kpis[name].dropna() if name in kpis else pd.Series(dtype=float)
            rows.append({"state": name.removeprefix("leads_"), "mean": means[name],
                         "share": means[name] / total if total > 0 else float("nan"),
                         "p10": float(values.quantile(0.1)) if len(values) else float("nan"),
                         "p90": float(values.quantile(0.9)) if len(values) else float("nan")})
        return pd.DataFrame(rows).set_index("state")

    def roles(self) -> pd.DataFrame:
        """Per-role means over months 1 … horizon and replications: ``headcount`` (at month end),
        ``capacity_fte`` (ramped capacity), ``demand_fte`` (work asked for, in fully ramped reps),
        ``utilization`` (mean of the monthly utilization; NaN months left out) and
        ``months_short`` (share of months in which demand exceeded capacity). Every structure,
        silos included; one row per role of the scenario."""
        import pandas as pd

        ts = self.timeseries
        rows = []
        for role in self.scenario.roles:
            row: dict[str, Any] = {"role": role}
            for name in ("headcount", "capacity_fte", "demand_fte", "utilization"):
                sub = ts[(ts["series"] == f"{name}.{role}") & (ts["month"] > 0)] if not ts.empty else ts
                row[name] = float(sub["value"].mean()) if len(sub) else float("nan")
            cap = ts[(ts["series"] == f"capacity_fte.{role}") & (ts["month"] > 0)] if not ts.empty else ts
            dem = ts[(ts["series"] == f"demand_fte.{role}") & (ts["month"] > 0)] if not ts.empty else ts
            both = cap.merge(dem, on=["rep", "month"], suffixes=("_c", "_d")) if len(cap) and len(dem) else None
            row["months_short"] = (float((both["value_d"] > both["value_c"] + 1e-9).mean())
                                   if both is not None and len(both) else float("nan"))
            rows.append(row)
        return pd.DataFrame(rows).set_index("role")

    def fan(self, name: str, quantiles: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95)) -> pd.DataFrame:
        """Quantiles of a monthly series across replications (month × quantile)."""
        return self.series(name).quantile(list(quantiles), axis=1).T



def team_table(timeseries: pd.DataFrame) -> pd.DataFrame | None:
    """Per team (the PODs; ``pool`` in a hybrid), from a long series table (rep, month, series,
    value): each team flow summed over the run and averaged over replications, and each role's
    mean monthly utilization. None for a single-team org. Series of sources or segments
    (``…@source:inbound``, ``…@segment:smb``) are not teams."""
    import pandas as pd

    if timeseries.empty:
        return None
    team_rows = timeseries[timeseries["series"].str.contains("@", regex=False)]
    if team_rows.empty:
        return None
    parts = team_rows["series"].str.split("@", n=1, expand=True)
    frame = team_rows.assign(name=parts[0], team=parts[1])
    frame = frame[~frame["team"].str.contains(":", regex=False)]
    if frame.empty:
        return None
    flow_names = ["mqls", "sqls", "opportunities", "wins", "new_mrr_usd", "stale", "no_capacity"]
    flows = frame[frame["name"].isin(flow_names)]
    totals = flows.groupby(["team", "name", "rep"])["value"].sum().groupby(["team", "name"]).mean().unstack()
    util = frame[frame["name"].str.startswith("utilization.") & (frame["month"] > 0)]
    util_mean = util.groupby(["team", "name"])["value"].mean().unstack()
    table = pd.concat([totals, util_mean], axis=1)
    order = [c for c in flow_names if c in table]
    return table[order + sorted(c for c in table.columns if c not in order)]


def combined_tables(kpi_parts: list[pd.DataFrame], series_parts: list[pd.DataFrame]
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Chunks' tables as one KPI table (by rep) and one series table (by rep, series, month)."""
    import pandas as pd

    kpi_table = pd.concat(kpi_parts, ignore_index=True).sort_values("rep").reset_index(drop=True) \
        if kpi_parts else pd.DataFrame(columns=["rep", *KPI_NAMES])
    series_table = pd.concat(series_parts, ignore_index=True).sort_values(
        ["rep", "series", "month"], kind="stable").reset_index(drop=True) \
        if series_parts else pd.DataFrame(columns=["rep", "month", "series", "value"])
    return kpi_table, series_table
