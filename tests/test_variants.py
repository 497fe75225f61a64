"""Grader validity (issue #5): correct solutions written differently earn full auto-graded marks.

Every variant of each configured assignment's trusted/variants.py that a selected test reads is graded once
through the real path, in one batch of two sandboxes. A configured assignment with no variant catalog, or an
empty one, fails tests/test_mutants.py's catalog test and this file's, naming it.
"""
from __future__ import annotations

import ast

import pytest

from autograder.assignments.catalog import Variant
from autograder.batch import grade_many
from autograder.results import GradeReport
from tests.catalog import VARIANTS, graded_cell_of
from tests.helpers import ASSIGNMENTS, test_config, with_functions, write

MIN_VARIANTS = 20


@pytest.fixture(scope="session")
def variant_reports(request, tmp_path_factory) -> dict[str, GradeReport]:
    """The report of every variant a selected test reads, graded once in one batch of 2 sandboxes."""
    folder = tmp_path_factory.mktemp("variants")
    selected = [item for item in request.session.items if "variant_reports" in item.fixturenames]
    ids = {item.callspec.params["variant"].id for item in selected if hasattr(item, "callspec")}
    needed = [v for v in VARIANTS if v.id in ids]
    jobs = [(write(with_functions(v.assignment, v.replacements), folder / f"{v.id}.ipynb"), v.assignment)
            for v in needed]
    reports = grade_many(jobs, test_config(), workers=2)
    return {v.id: r for v, r in zip(needed, reports)}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_configured_assignment_has_variants(assignment):
    assert [v for v in VARIANTS if v.assignment == assignment], \
        f"{assignment} has no variants: list at least one correct rewrite in its trusted/variants.py"


def test_catalog_is_large_enough():
    assert len(VARIANTS) >= MIN_VARIANTS
    assert len({v.id for v in VARIANTS}) == len(VARIANTS), "variant ids must be unique"


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.id)
def test_catalog_entry_is_well_formed(variant: Variant):
    assert variant.replacements
    for function, source in variant.replacements.items():
        graded_cell_of(variant.assignment, function)  # the solution cell exists
        tree = ast.parse(source)
        defined = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        assert function in defined, f"the replacement of {function} must define it"


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.id)
def test_variant_earns_full_marks(variant: Variant, variant_reports):
    report = variant_reports[variant.id]
    lost = [f"  {c.name} ({c.score:g}/{c.max_score:g}): {c.output}" for c in report.checks if not c.passed]
    assert not lost, f"correct variant {variant.id} lost points:\n" + "\n".join(lost)
    assert report.score == sum(c.max_score for c in report.checks)
