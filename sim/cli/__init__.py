"""The ``salesim`` command line (:func:`main`), thin over the API.

* :mod:`~sim.cli.main` — the parser and the dispatch;
* :mod:`~sim.cli.common` — exit codes, argument types, messages;
* :mod:`~sim.cli.run` — ``validate``, ``schema``, ``run``, ``compare``;
* :mod:`~sim.cli.plan` — ``plan`` (``--simulate``, ``--solve``).
"""

from sim.cli.main import main

__all__ = ["main"]
