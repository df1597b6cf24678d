"""``python -m sim.cli``: the ``salesim`` command."""

import sys

from sim.cli.main import main

sys.exit(main())
