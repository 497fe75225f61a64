"""Grader validity (issue #5): every known-wrong implementation in each configured assignment's
trusted/mutants.py is caught, and named with the mistake its trusted/diagnoses.py expects.

Every assignment in course_config.py has a mutant catalog (a missing or empty one fails, naming it). The
mutants the selected tests need are graded once, through the real path (grade_many, sandbox, hidden suites),
by a session fixture, two sandboxes at a time; each parametrized test then judges one mutant's report:
  (a) every check it `catches` fails;
  (b) the score drops by at least those checks' points;
  (c) every check of another graded cell keeps full marks, unless listed in `may_also_fail`.
"""
from __future__ import annotations

import ast
import json

import pytest

from autograder import assignments
from autograder.assignments.catalog import Mutant
from autograder.batch import grade_many
from autograder.results import GradeReport
from tests.catalog import EXPECTED, MUTANTS, graded_cell_of, missing, named, outcome
from tests.helpers import ASSIGNMENTS, failed, test_config, with_functions, write

MIN_MUTANTS = 40


def _describe(report: GradeReport) -> str:
    return "\n".join(f"  {c.name} ({c.score:g}/{c.max_score:g}): {c.output}" for c in report.checks if not c.passed) \
        or "  (every check passed)"


def _of(assignment: str) -> list[Mutant]:
    return [m for m in MUTANTS if m.assignment == assignment]


def _needed(items: list[pytest.Item]) -> list[Mutant]:
    """The mutants whose reports the selected tests read: one mutant's, or all of one assignment's."""
    ids: set[str] = set()
    for item in items:
        params = item.callspec.params if "mutant_reports" in item.fixturenames and hasattr(item, "callspec") else {}
        if isinstance(params.get("mutant"), Mutant):
            ids.add(params["mutant"].id)
        ids.update(m.id for m in _of(params.get("assignment", "")))
    return [m for m in MUTANTS if m.id in ids]


@pytest.fixture(scope="session")
def mutant_reports(request, tmp_path_factory) -> dict[str, GradeReport]:
    """The report of every mutant a selected test reads, graded once in one batch of 2 sandboxes."""
    folder = tmp_path_factory.mktemp("mutants")
    needed = _needed(request.session.items)
    jobs = [(write(with_functions(m.assignment, {m.function: m.source}), folder / f"{m.id}.ipynb"), m.assignment)
            for m in needed]
    reports = grade_many(jobs, test_config(), workers=2)
    return {m.id: r for m, r in zip(needed, reports)}


# The catalog itself (fast): catalogs that exist, names that exist, cells that exist, code that parses.

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_configured_assignment_has_its_mutant_variant_and_diagnosis_catalogs(assignment):
    problems = missing(assignment)
    assert not problems, "\n".join(problems)
    for part, entries in (("mutants", "MUTANTS"), ("variants", "VARIANTS")):
        strays = [e.id for e in getattr(assignments.module(assignment, part), entries) if e.assignment != assignment]
        assert not strays, f"{assignment}'s {part} catalog lists entries of another assignment: {strays}"


def test_a_missing_or_empty_catalog_is_named(monkeypatch):
    assert missing("no_such_assignment") == [
        f"no_such_assignment has no {part} catalog autograder/assignments/no_such_assignment/trusted/{part}.py"
        for part in ("mutants", "variants", "diagnoses")]
    name = ASSIGNMENTS[0]
    monkeypatch.setattr(assignments.module(name, "mutants"), "MUTANTS", [])
    assert missing(name) == [f"{name}'s mutants catalog has no entries: list at least one in MUTANTS"]


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
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_kill_rate(assignment, mutant_reports, record_property, capsys):
    """Fraction of the assignment's mutants whose named checks all failed; the goal is 100%."""
    mutants = _of(assignment)
    assert mutants, f"{assignment} has no mutants"
    survivors = [m.id for m in mutants if not m.catches <= failed(mutant_reports[m.id])]
    killed = len(mutants) - len(survivors)
    rate = killed / len(mutants)
    record_property("kill_rate", rate)
    record_property("survivors", json.dumps(survivors))
    with capsys.disabled():
        print(f"\n{assignment} mutation kill rate: {killed}/{len(mutants)} = {rate:.1%}"
              + (f"; survivors: {', '.join(survivors)}" if survivors else ""))
    assert rate == 1.0, f"mutants not caught: {survivors}"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_diagnosis_rate(assignment, mutant_reports, record_property, capsys):
    """Issue #14: the feedback names the right known mistake for at least 70% of the assignment's mutants, and
    never a wrong one."""
    mutants = _of(assignment)
    assert mutants, f"{assignment} has no mutants"
    outcomes = {m.id: outcome(m.id, mutant_reports[m.id]) for m in mutants}
    right, wrong = [i for i, o in outcomes.items() if o == "right"], [i for i, o in outcomes.items() if o == "wrong"]
    none = [i for i, o in outcomes.items() if o == "none"]
    record_property("diagnosis_right", len(right))
    record_property("diagnosis_wrong", json.dumps(wrong))
    with capsys.disabled():
        print(f"\n{assignment} diagnosis rate: {len(right)}/{len(mutants)} right ({len(right) / len(mutants):.0%}), "
              f"{len(wrong)} wrong, {len(none)} none" + (f"; none: {', '.join(none)}" if none else ""))
    assert not wrong, "mutants diagnosed with a wrong mistake:\n" + "\n".join(
        f"  {i}: named {sorted(named(mutant_reports[i]))}, expected {sorted(EXPECTED.get(i, set()))}" for i in wrong)
    assert len(right) >= 0.7 * len(mutants), f"only {len(right)} of {len(mutants)} mutants got the right diagnosis"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_expected_diagnosis_names_a_catalogued_mistake(assignment):
    expected = assignments.module(assignment, "diagnoses").EXPECTED
    known = {m.id for ms in assignments.module(assignment, "mistakes").MISTAKES.values() for m in ms}
    assert set(expected) <= {m.id for m in _of(assignment)}, \
        f"{assignment}'s diagnoses.py names mutants its mutants.py does not have"
    assert set().union(*expected.values()) <= known, \
        f"{assignment}'s diagnoses.py expects mistakes its mistakes.py lacks"
