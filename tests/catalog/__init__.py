"""Catalogs of wrong (mutants) and correct-but-different (variants) student code, for grader validity."""
from __future__ import annotations

import functools

from tests.helpers import solution


@functools.lru_cache(maxsize=None)
def graded_cell_of(assignment: str, function: str) -> str:
    """grade_id of the auto-graded cell that scores `function`: the first graded cell after its solution cell."""
    cells = solution(assignment).cells
    roles = [(c.metadata.get("tensorgrade", {}).get("role"), c.metadata.get("nbgrader", {}).get("grade_id"))
             for c in cells]
    start = next((i for i, (role, gid) in enumerate(roles) if role == "solution" and gid == function), None)
    if start is None:
        raise KeyError(f"{assignment} has no solution cell {function}")
    return next(gid for role, gid in roles[start + 1:] if role == "graded")
