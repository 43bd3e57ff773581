"""``python -m skqrnn``: the same command line as the ``skqrnn`` script."""

import sys

from .cli import main

sys.exit(main())
