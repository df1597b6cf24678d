"""Monte Carlo runs: many replications of scenarios, compared, summarized and stored.

* :mod:`~sim.runs.replication` — one replication and a chunk of them (the executor task);
* :mod:`~sim.runs.executors` — process pools, Dask, chunking;
* :mod:`~sim.runs.monte_carlo` — :func:`run` and :func:`run_to_precision`;
* :mod:`~sim.runs.results` — :class:`RunResult`, the tables a run hands back;
* :mod:`~sim.runs.store` — the results folder (atomic, resumable);
* :mod:`~sim.runs.comparison` — scenarios under common random numbers, paired differences;
* :mod:`~sim.runs.stats` — confidence intervals, paired differences, P(better).

Importing this package imports none of them (pool workers import only what a replication needs).
"""
