"""The validity catalogs of every configured assignment, read from its trusted/ folder (mutants.py, variants.py,
diagnoses.py; their entries are autograder/assignments/catalog.py's), gathered for the tests and benchmarks.

An assignment whose catalog is missing or empty is left out of the gathered lists and fails its own test
(`missing`, tests/test_mutants.py and test_variants.py), naming the catalog.
"""
from __future__ import annotations

import functools

from autograder import assignments, paths
from autograder.assignments.catalog import Mutant, Variant
from autograder.config import load_config
from autograder.results import GradeReport
from tests.helpers import solution

CATALOGS = ("mutants", "variants", "diagnoses")
# What each catalog lists, and whether it may be empty (a mutant without an expected diagnosis gets none).
LISTS = {"mutants": ("MUTANTS", False), "variants": ("VARIANTS", False), "diagnoses": ("EXPECTED", True)}


def missing(name: str) -> list[str]:
    """Why assignment `name`'s catalogs cannot be read: one line per missing or empty catalog (none when all
    are there)."""
    problems = []
    for part in CATALOGS:
        path = assignments.part_file(name, part)
        if not path.is_file():
            problems.append(f"{name} has no {part} catalog {path.relative_to(paths.PROJECT_ROOT)}")
            continue
        attribute, may_be_empty = LISTS[part]
        if not (may_be_empty or getattr(assignments.module(name, part), attribute, None)):
            problems.append(f"{name}'s {part} catalog has no entries: list at least one in {attribute}")
    return problems


def _configured(part: str) -> list:
    names = [name for name in load_config().assignments if not missing(name)]
    return [entry for name in names for entry in getattr(assignments.module(name, part), LISTS[part][0])]


MUTANTS: list[Mutant] = _configured("mutants")
VARIANTS: list[Variant] = _configured("variants")
EXPECTED: dict[str, set[str]] = {mutant_id: mistakes for name in load_config().assignments if not missing(name)
                                 for mutant_id, mistakes in assignments.module(name, "diagnoses").EXPECTED.items()}
BY_ID = {m.id: m for m in MUTANTS}


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


def named(report: GradeReport) -> set[str]:
    """The mistakes a report names."""
    return {c.mistake for c in report.checks if c.mistake}


def outcome(mutant_id: str, report: GradeReport) -> str:
    """'right', 'wrong' or 'none' for one mutant's report."""
    found, expected = named(report), EXPECTED.get(mutant_id, set())
    if found - expected:
        return "wrong"
    return "right" if found else "none"
