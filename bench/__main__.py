"""`python -m bench`: run apbot's benchmarks and print the report (see bench/run.py)."""

import sys

from bench.run import main

sys.exit(main())
