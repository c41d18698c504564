"""``python -m experiments.cli``: the ``countysim`` command without its console script."""

import sys

from experiments.cli.main import main

sys.exit(main())
