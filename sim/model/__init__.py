"""The SimPy world: one module per business process (a desk per job).

* :mod:`~sim.model.leads`         — leads and prospects with their latent draws;
* :mod:`~sim.model.workforce`     — reps, ramp, attrition and backfill;
* :mod:`~sim.model.development`   — the development desk (work inbound, prospect): contact
  cadence, speed to lead (:mod:`~sim.model.speed_to_lead`), qualification;
* :mod:`~sim.model.closing`       — the closing desk: hand-off, the queue for a closer, opportunities;
* :mod:`~sim.model.accounts`      — the accounts desk: customers, their owners' books, churn, expansion;
* :mod:`~sim.model.jobs`          — the desk registry: which desk does which job, built on which pool;
* :mod:`~sim.model.time_split`    — a role with jobs at several desks (a full-cycle rep);
* :mod:`~sim.model.routing`       — teams (silo, PODs, pools) and which desk a lead or SQL goes to;
* :mod:`~sim.model.world`         — builds all of the above from a scenario and runs it;
* :mod:`~sim.model.engine`        — the speed machinery (calendar, rep queues, samplers) and the
  rules of the compiled build.
"""

from sim.model.world import World, simulate

__all__ = ["World", "simulate"]
