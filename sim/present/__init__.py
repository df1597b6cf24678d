"""Presentation: what people read. Plots (each takes an Axes and returns it), text tables, plans
as text. Everything here formats data computed elsewhere; nothing here computes a KPI.

* :mod:`~sim.present.text` — numbers and tables for the terminal;
* :mod:`~sim.present.plots` — Matplotlib figures of runs and comparisons;
* :mod:`~sim.present.plan_text` — plans, plan simulations and solved headcounts as text.
"""
