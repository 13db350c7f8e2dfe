"""`python -m benchmarks`: run the suite (see benchmarks/run.py)."""

from .run import main

raise SystemExit(main())
