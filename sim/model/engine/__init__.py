"""The speed machinery of the simulation core, and the rules a change to the core must keep.

About a third of the core exists for speed: one replication of the reference org takes ~0.055 s
compiled, where a plain SimPy model of the same work takes ~12× as long. This package holds the
parts that are only machinery:

* :mod:`~sim.model.engine.calendar` — the event calendar (SimPy's order, lead steps as plain calls,
  and in the compiled build a native timeline with a wheel of time slots);
* :mod:`~sim.model.engine.repheap` — the priority queues through which a desk finds its best rep
  (heapq tuples in Python, key buckets of rep-id bitsets compiled);
* :mod:`~sim.model.engine.sampling` — scalar inverse CDFs for the per-lead draws;
* :mod:`~sim.model.engine.odds` — the odds arithmetic every effect uses.

The lead records themselves are declared once in :mod:`sim.eventlog` (``LEAD_RECORD``); their
writers, :meth:`sim.model.leads.Lead.record_to` and the lead's times are generated from that
declaration by :mod:`~sim.model.engine.codegen` (``python -m sim.model.engine.codegen``), a
developer's tool that the simulation never imports, into blocks marked as generated.

**The compiled build.** A regular install (``pip install .``) compiles the modules listed in
:data:`sim.compiled.COMPILED_MODULES` — this package, the desks, the world, the event log, the
work calendar — with mypyc, from the same source files; an editable install runs them as Python.
Both builds must give the same records to the last bit (``tests/test_compiled.py`` and the golden
outputs in ``tests/golden/`` check it, and ``.ci/run`` runs the suite against both). What that
asks of anyone changing a compiled module:

1. **Type hints are instructions.** mypyc trusts them: a value that does not fit its annotation
   raises at run time in the compiled build only. ``i64``/``i32``/``i16`` fields (``Lead``'s
   counters and indices) are C integers there and *overflow only when compiled* — a new count
   that may exceed 32 767 must not be ``i16``. Plain ``int`` stays arbitrary precision.
2. **``Lead`` stays acyclic** (``@mypyc_attr(acyclic=True)``): it may hold numbers, its block's
   meeting draws and a kept meeting plan of floats — never a rep, a desk, a callable or anything
   that can lead back to it. Refer to a rep by id (``closer_rep``). Breaking this leaks memory
   (no crash); ``tests/test_compiled.py`` checks that a finished replication is freed.
3. **Module constants read on the hot path are ``Final``** (``_WON: Final = int(LeadState.WON)``):
   a C static when compiled, where an enum member or an imported name is a dictionary lookup at
   every use. Compare with the ``Final`` ints, not with the enum nor a bare number, typed like
   what they are compared with (``_INBOUND: Final[i16] = int(Source.INBOUND)`` for
   ``Lead.source``). A ``Final`` number written as a literal is put in place as the number
   wherever it is used, imported or not: units are named (``sim.workcalendar.HOURS_PER_DAY``,
   ``MINUTES_PER_DAY``), not written as ``24.0`` or ``1440.0``.
4. **NaN means "not yet"** for a lead's timestamps; test it with ``math.isnan(t)``. On a
   ``float`` mypyc compiles it to ``CPyFloat_IsNaN``, a C function of its runtime (no lookup of
   ``math``, no Python call), as cheap as the bare ``t != t`` it replaced; on an ``Any`` value it
   stays a Python call.
5. **Bound methods handed to the calendar are bound once** (``self._finish_step = self._finish``
   in ``__init__``), so the calendar gets the same object for every lead.
6. **Variants picked at import** (``is_compiled(__file__)``): the calendar, the rep heaps and the
   record writers each have a Python variant and a compiled one with the same order and results.
   A change to one variant is a change to both; the tests run each against the other.
7. **No dynamic attributes** on compiled classes (they have fixed C layouts): declare every field
   in the class body; tests that need to spy on a class use ``allow_interpreted_subclasses``.

The numbers these rules buy are in ``docs/developer/performance.md``; the benchmarks in
``benchmarks/`` guard them.
"""
