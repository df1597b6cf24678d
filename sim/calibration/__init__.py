"""Calibration: CRM and HR exports in, fitted scenarios out; synthetic exports for trying it.

This package owns everything between a company's own history and a scenario file
(docs/guides/calibration.md): the export format (:mod:`.crmformat`), reading and validating an
export through a mapping (:mod:`.mapping`, :mod:`.reader`), the fits (:mod:`.glm`,
:mod:`.fits`, :mod:`.survival`), writing the fitted scenario and its report (:mod:`.writer`),
the backtest (:mod:`.backtest`), and ``salesim synth`` (:mod:`.synth`), which writes a
simulated run as an export. It sits beside
:mod:`sim.planner` in the layering: it may use runs, metrics and the model, and only the CLI and
notebooks use it. Nothing runs on import.
"""
