"""The limits of what a scenario may ask for: every number a run can be given is finite and
bounded, so that whatever ``salesim validate`` accepts also runs — to the end, in bounded time
and memory (docs/guides/scenario-files.md#limits).

This module owns the figures; :mod:`sim.scenario.schema` and :mod:`sim.scenario.dists` put them
on fields, :mod:`sim.scenario.references` on what spans fields (a role's seats, the lead volume
of a run, dates inside the horizon), :mod:`sim.scenario.yamlio` on the size of a file. Each
limit is far beyond what a sales org needs and well inside what the model's arithmetic and a
machine's memory hold.
"""

from __future__ import annotations

from typing import Final

MAX_HORIZON_MONTHS: Final = 120
"""The longest simulated horizon (ten years)."""

MAX_SEATS_PER_ROLE: Final = 10_000
"""Most reps one role may ever have: its headcount plus its hiring waves, or its largest
headcount target (the model numbers seats of a role below 100,000)."""

MAX_TOTAL_SEATS: Final = 20_000
"""Most reps an org may ever have, all roles together."""

MAX_LEADS_PER_MONTH: Final = 1_000_000
"""Most MQLs (or outbound prospects) arriving in one month, growth and seasonality included."""

MAX_LEADS_PER_REPLICATION: Final = 5_000_000
"""Most leads (MQLs and prospects, expected) over a horizon: about 2 GB of memory and minutes of
computing per replication (a lead record takes about 0.45 KB while a replication runs)."""

MAX_WARM_ITEMS: Final = 1_000_000
"""Most open leads and installed customers placed by a warm start, together."""

MAX_TENURE_MONTHS: Final = 600
"""Longest tenure or age in months anything may have at the start (fifty years)."""

MIN_MEDIAN_TENURE_MONTHS: Final = 0.25
"""Shortest median tenure of a rep, and shortest time before a promotion (about a week): shorter,
and a seat's leave-and-refill cycle would spin thousands of times a month."""

MAX_DAYS: Final = 36_525.0
"""Longest waiting limit, age or scripted time in days (a hundred years)."""

MAX_DRAW: Final = 1e12
"""Largest magnitude a distribution may ever draw (its value at a uniform of 1 − 10⁻¹²): draws stay
finite, and exact in the model's 64-bit day and slot numbers."""

MAX_LOGNORMAL_SIGMA: Final = 3.0
"""Widest lognormal: at sigma 3 the P99 is 1,000 times the median."""

MAX_GAMMA_CV: Final = 10.0
"""Most dispersed gamma (coefficient of variation)."""

MIN_GAMMA_CV: Final = 1e-3
"""Least dispersed gamma (below it, use a constant)."""

MIN_WEIBULL_SHAPE: Final = 0.1
"""Smallest Weibull shape (heavier tails than that have no finite sampler worth the name)."""

MAX_DIALS: Final = 1_000_000
"""Most dials a lead may need to connect (the compiled build keeps dial counts in 32 bits)."""

MAX_ATTEMPTS: Final = 100_000
"""Most dial attempts a cadence may allow (the compiled build keeps dial counts in 32 bits)."""

MAX_LEAD_SOURCES: Final = 64
"""Most lead sources a scenario may have (each has its own streams, queue and lead ids)."""

MAX_CAPACITY: Final = 1e9
"""Largest capacity of a rep (dials a day, open opportunities, accounts covered) and longest wait
before a lead or an SQL goes stale, in days: so large that it never binds (tests use it so), and
still exact arithmetic."""

MAX_PROSPECTS_PER_REP_MONTH: Final = 1_000_000.0
"""Most prospects one SDR loads in a month."""

MAX_MULTIPLIER: Final = 1_000.0
MAX_SKILL_MEDIAN: Final = 5.0
"""Largest median of a role's skill multiplier (``roles.<name>.skill.median``): five times the
typical rep's odds or capacity; beyond, a rep is another role."""
MAX_SKILL_SIGMA: Final = 1.5
"""Largest spread (log-scale) of a role's skill: at 1.5 the 95th percentile rep is ~12 × the median."""
"""Largest multiplier of a rate or of odds (seasonality, churn multipliers, speed-to-lead points)."""

MAX_GROWTH_PER_MONTH: Final = 1.0
"""Fastest compound monthly growth of the inbound rate (100 % a month); the volume it reaches
is bounded by :data:`MAX_LEADS_PER_MONTH`."""

MAX_EXPANSION_FRACTION: Final = 10.0
"""Largest expansion of an account in one month, as a fraction of its MRR."""

MAX_MONEY_USD: Final = 1e12
"""Largest amount of money a field may hold (a cost, a price, an MRR)."""

MAX_SCENARIO_BYTES: Final = 8 * 1024 * 1024
"""Largest scenario file read (8 MiB); a longer file — or an endless stream such as ``/dev/zero`` —
is refused before it fills memory."""
