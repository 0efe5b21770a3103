"""python -m footfall: the command line."""

import sys

from footfall.cli import main

sys.exit(main())
