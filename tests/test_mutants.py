"""Grader validity (issue #5): every known-wrong implementation in tests/catalog/mutants.py is caught.

All mutants are graded once, through the real path (grade_many, sandbox, hidden suites), by a
session fixture; each parametrized test then judges one mutant's report:
  (a) every check it `catches` fails;
  (b) the score drops by at least those checks' points;
  (c) every check of another graded cell keeps full marks, unless listed in `may_also_fail`.
"""
from __future__ import annotations

import ast
import json

import pytest

from autograder.batch import grade_many
from autograder.results import GradeReport
from tests.catalog import graded_cell_of
from tests.catalog.diagnoses import EXPECTED, named, outcome
from tests.catalog.mutants import MUTANTS, Mutant
from tests.helpers import failed, test_config, with_functions, write

MIN_MUTANTS = 40


def _describe(report: GradeReport) -> str:
    return "\n".join(f"  {c.name} ({c.score:g}/{c.max_score:g}): {c.output}" for c in report.checks if not c.passed) \
        or "  (every check passed)"


@pytest.fixture(scope="session")
def mutant_reports(tmp_path_factory) -> dict[str, GradeReport]:
    """Every mutant's report, graded once in one batch of 2 sandboxes."""
    folder = tmp_path_factory.mktemp("mutants")
    jobs = [(write(with_functions(m.assignment, {m.function: m.source}), folder / f"{m.id}.ipynb"), m.assignment)
            for m in MUTANTS]
    reports = grade_many(jobs, test_config(), workers=2)
    return {m.id: r for m, r in zip(MUTANTS, reports)}


# The catalog itself (fast): names that exist, cells that exist, code that parses.

def test_catalog_is_large_enough():
    assert len(MUTANTS) >= MIN_MUTANTS
    assert len({m.id for m in MUTANTS}) == len(MUTANTS), "mutant ids must be unique"


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_catalog_entry_is_well_formed(mutant: Mutant):
    spec = test_config().assignment(mutant.assignment)
    own = graded_cell_of(mutant.assignment, mutant.function)
    assert mutant.catches, "a mutant must name the checks that catch it"
    for name in mutant.catches:
        assert spec.grade_id_of.get(name) == own, f"{name} is not a check of {own}"
    for name in mutant.may_also_fail:
        assert name in spec.grade_id_of and spec.grade_id_of[name] != own, \
            f"may_also_fail lists checks of other graded cells; {name} is not one"
    tree = ast.parse(mutant.source)
    defined = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    assert mutant.function in defined, f"the source must define {mutant.function}"


# The grader against the catalog (slow).

@pytest.mark.slow
@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_mutant_is_caught(mutant: Mutant, mutant_reports):
    report = mutant_reports[mutant.id]
    spec = test_config().assignment(mutant.assignment)
    lost = failed(report)
    survived = sorted(mutant.catches - lost)
    assert not survived, f"{mutant.id} survived {survived}; failed checks:\n{_describe(report)}"

    full = sum(c.max_score for c in report.checks)
    owed = sum(spec.check_points[name] for name in mutant.catches)
    assert full - report.score >= owed, f"{mutant.id} lost {full - report.score:g} points, expected at least {owed:g}"

    own = graded_cell_of(mutant.assignment, mutant.function)
    collateral = sorted(c.name for c in report.checks
                        if c.grade_id != own and not c.passed and c.name not in mutant.may_also_fail)
    assert not collateral, (f"{mutant.id} (a wrong {mutant.function}) cost points on checks of other cells "
                            f"{collateral}:\n{_describe(report)}")


@pytest.mark.slow
def test_kill_rate(mutant_reports, record_property, capsys):
    """Fraction of mutants whose named checks all failed; the goal is 100%."""
    survivors = [m.id for m in MUTANTS if not m.catches <= failed(mutant_reports[m.id])]
    killed = len(MUTANTS) - len(survivors)
    rate = killed / len(MUTANTS)
    record_property("kill_rate", rate)
    record_property("survivors", json.dumps(survivors))
    with capsys.disabled():
        print(f"\nmutation kill rate: {killed}/{len(MUTANTS)} = {rate:.1%}"
              + (f"; survivors: {', '.join(survivors)}" if survivors else ""))
    assert rate == 1.0, f"mutants not caught: {survivors}"


@pytest.mark.slow
def test_diagnosis_rate(mutant_reports, record_property, capsys):
    """Issue #14: the feedback names the right known mistake for at least 70% of the mutants, and never a wrong one."""
    outcomes = {m.id: outcome(m.id, mutant_reports[m.id]) for m in MUTANTS}
    right, wrong = [i for i, o in outcomes.items() if o == "right"], [i for i, o in outcomes.items() if o == "wrong"]
    none = [i for i, o in outcomes.items() if o == "none"]
    record_property("diagnosis_right", len(right))
    record_property("diagnosis_wrong", json.dumps(wrong))
    with capsys.disabled():
        print(f"\ndiagnosis rate: {len(right)}/{len(MUTANTS)} right ({len(right) / len(MUTANTS):.0%}), "
              f"{len(wrong)} wrong, {len(none)} none" + (f"; none: {', '.join(none)}" if none else ""))
    assert not wrong, "mutants diagnosed with a wrong mistake:\n" + "\n".join(
        f"  {i}: named {sorted(named(mutant_reports[i]))}, expected {sorted(EXPECTED.get(i, set()))}" for i in wrong)
    assert len(right) >= 0.7 * len(MUTANTS), f"only {len(right)} of {len(MUTANTS)} mutants got the right diagnosis"


def test_every_expected_diagnosis_names_a_catalogued_mistake():
    from autograder import assignments
    from autograder.config import load_config

    known = {m.id for name in load_config().assignments
             for ms in assignments.module(name, "mistakes").MISTAKES.values() for m in ms}
    assert set(EXPECTED) <= {m.id for m in MUTANTS}, "diagnoses.py names mutants that do not exist"
    assert set().union(*EXPECTED.values()) <= known, "diagnoses.py expects mistakes no catalog has"
