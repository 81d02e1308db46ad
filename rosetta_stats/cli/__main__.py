"""`python -m rosetta_stats.cli`: the rosetta-stats command."""
import sys

from . import main

sys.exit(main())
