"""Scenarios: what a user writes, validated into inert, frozen data.

The package owns everything between a YAML file and a :class:`Scenario`:

* :mod:`~sim.scenario.yamlio` — YAML with ``file:line`` for every value, ``extends:``, ``--set``;
* :mod:`~sim.scenario.dists` — the distributions a field may hold (``{dist: lognormal, ...}``);
* :mod:`~sim.scenario.schema` — the pydantic models and :meth:`Scenario.jobs_of`;
* :mod:`~sim.scenario.references` — checks that span fields (names, capacities, PODs);
* :mod:`~sim.scenario.loading` — :func:`load_scenario` and the wording of problems;
* :mod:`~sim.scenario.deterministic` — the all-variance-off transform.

Everything a caller needs is importable from here (``from sim.scenario import Scenario``).
"""

from sim.scenario.loading import (
    Checked,
    SalesimWarning,
    ScenarioWarning,
    json_schema,
    load_checked,
    load_scenario,
    scenario_from_dict,
    scenario_from_document,
)
from sim.scenario.references import check_references, check_warnings
from sim.scenario.schema import (
    MAX_ATTEMPTS,
    MAX_MEETINGS,
    CadenceSpec,
    CalendarSpec,
    ChurnSpec,
    CustomersSpec,
    ExpansionSpec,
    HandoffLegSpec,
    HandoffSpec,
    HiringSpec,
    HiringWaveSpec,
    InboundSpec,
    InternSpec,
    ManagerSpec,
    MarketSpec,
    OpportunitySpec,
    OrgSpec,
    OutboundSpec,
    OutsourcedSpec,
    PodEffectsSpec,
    PodLeadSpec,
    PodSpec,
    PromotionSpec,
    RampFormSpec,
    ReorgSpec,
    RoleSpec,
    Scenario,
    SegmentSpec,
    Spec,
    SpeedToLeadSpec,
    WarmCustomersSpec,
    WarmPipelineSpec,
    WarmStartSpec,
    WorkforceSpec,
)
from sim.scenario.yamlio import Problem, ScenarioError

__all__ = [
    "MAX_ATTEMPTS", "MAX_MEETINGS", "CadenceSpec", "CalendarSpec", "Checked", "ChurnSpec", "CustomersSpec",
    "ExpansionSpec", "HandoffLegSpec", "HandoffSpec", "HiringSpec", "HiringWaveSpec", "InboundSpec", "InternSpec",
    "ManagerSpec", "MarketSpec", "OpportunitySpec", "OrgSpec", "OutboundSpec", "OutsourcedSpec", "PodEffectsSpec",
    "PodLeadSpec", "PodSpec", "Problem",
    "PromotionSpec", "RampFormSpec", "ReorgSpec", "RoleSpec",
    "SalesimWarning", "Scenario", "ScenarioError", "ScenarioWarning",
    "SegmentSpec", "Spec", "SpeedToLeadSpec", "WarmCustomersSpec", "WarmPipelineSpec", "WarmStartSpec", "WorkforceSpec",
    "check_references", "check_warnings", "json_schema", "load_checked", "load_scenario", "scenario_from_dict",
    "scenario_from_document",
]
