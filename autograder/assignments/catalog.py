"""The entries of an assignment's validity catalogs, kept in its trusted/ folder beside its checks:

    trusted/mutants.py    MUTANTS: known-wrong code its hidden checks must catch (tests/test_mutants.py)
    trusted/variants.py   VARIANTS: correct code written differently, which must earn full marks (test_variants.py)
    trusted/diagnoses.py  EXPECTED: the known mistake (trusted/mistakes.py) each mutant should be named with

Only the kit's tests and benchmarks read them; the grader never does, and no child may (assignments.child_may_read).
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Mutant:
    """Known-wrong code: the full source of one solution cell (`function`, its grade_id), the checks of its own
    graded cell that must fail (`catches`) and the checks of other graded cells that may fail as a consequence
    (`may_also_fail`). Checks of its own cell not in `catches` may fail or pass."""

    id: str
    assignment: str
    function: str
    source: str
    catches: frozenset[str]
    may_also_fail: frozenset[str] = field(default_factory=frozenset)


def mutant(id: str, assignment: str, function: str, source: str, catches: set[str],
           may_also_fail: set[str] = frozenset()) -> Mutant:
    """A Mutant whose source is written indented in its catalog."""
    return Mutant(id, assignment, function, textwrap.dedent(source).strip("\n"), frozenset(catches),
                  frozenset(may_also_fail))


@dataclass(frozen=True)
class Variant:
    """Correct code written differently from the reference: full sources of solution cells, by grade_id."""

    id: str
    assignment: str
    replacements: dict[str, str]


def variant(id: str, assignment: str, **replacements: str) -> Variant:
    """A Variant whose sources are written indented in its catalog."""
    return Variant(id, assignment, {name: textwrap.dedent(src).strip("\n") for name, src in replacements.items()})
