"""The SimPy world: one module per business process.

* :mod:`~sim.model.leads`       — leads and prospects with their latent draws;
* :mod:`~sim.model.workforce`   — reps, ramp, attrition and backfill;
* :mod:`~sim.model.development` — MDR/SDR desks: contact cadence, speed to lead, qualification;
* :mod:`~sim.model.closing`     — hand-off, AE queue and opportunities;
* :mod:`~sim.model.accounts`    — customers, CSM books, churn and expansion;
* :mod:`~sim.model.world`       — builds all of the above from a scenario and runs it.
"""

from sim.model.world import World, simulate

__all__ = ["World", "simulate"]
