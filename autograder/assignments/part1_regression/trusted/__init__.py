"""part1_regression's trusted side: read by the grader only; never mounted into a child (nor readable by it on
Gradescope)."""
