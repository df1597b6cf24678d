"""The analytic Blueprint sales model: revenue target → funnel → headcount → dated hiring plan,
and the plan set against the simulation.

* :mod:`~sim.planner.arithmetic` — the "78" rule and its relatives; :class:`PlanError`;
* :mod:`~sim.planner.staffing` — dials per lead, seat shares (vacancy, ramp);
* :mod:`~sim.planner.model` — :class:`SalesModel`, the numbers the planner works on;
* :mod:`~sim.planner.headcount` — :class:`PlanTarget`, :func:`plan`, :class:`Plan` and
  :func:`lag_aware` (the plan sized for the revenue an empty pipeline books);
* :mod:`~sim.planner.simulation` — :func:`simulate_plan` and :func:`solve_plan`;
* :mod:`~sim.planner.gap` — :func:`gap_breakdown`: the plan-vs-simulation gap, cause by cause.

Plans return data; :mod:`sim.present` renders them.
"""
