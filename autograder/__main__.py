"""`python -m autograder`: the kit's command line (see autograder.cli)."""
from .cli import main

raise SystemExit(main())
