"""Grader validity (issue #5): correct solutions written differently earn full auto-graded marks.

Every variant in tests/catalog/variants.py is graded once through the real path, in one batch.
"""
from __future__ import annotations

import ast

import pytest

from autograder.batch import grade_many
from autograder.results import GradeReport
from tests.catalog import graded_cell_of
from tests.catalog.variants import VARIANTS, Variant
from tests.helpers import test_config, with_functions, write

MIN_VARIANTS = 20


@pytest.fixture(scope="session")
def variant_reports(tmp_path_factory) -> dict[str, GradeReport]:
    folder = tmp_path_factory.mktemp("variants")
    jobs = [(write(with_functions(v.assignment, v.replacements), folder / f"{v.id}.ipynb"), v.assignment)
            for v in VARIANTS]
    reports = grade_many(jobs, test_config(), workers=2)
    return {v.id: r for v, r in zip(VARIANTS, reports)}


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
