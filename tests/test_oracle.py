"""Feedback is no oracle (issue #10): the expected values one submission is shown are worthless to another.

Feedback prints expected values to six digits. Were the grader's inputs the same for every
submission, a student could copy them out of one submission's feedback (or a classmate's) into
a notebook that returns them only while it is being graded. Each submission gets inputs of its
own (from the course secret, the assignment, the student and the notebook), so:
  - the same wrong notebook, submitted by two students, is shown different expected values;
  - a notebook that returns the values shown to alice earns bob nothing on those checks.
The notebooks are graded two at a time: alice's, then bob's (which need the values alice was shown).
"""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from nbformat.notebooknode import NotebookNode

from autograder.grading import grade_notebook
from autograder.results import GradeReport
from tests.catalog import BY_ID
from tests.helpers import replace_function, test_config, with_functions, write

CONFIG = test_config()
# judging._fmt writes numbers with 6 significant digits: "expected 1.53168, got 30.6336".
EXPECTED = re.compile(r"expected (-?\d+(?:\.\d*)?(?:e[-+]?\d+)?)")

# A wrong notebook: the solution with one known-wrong function per check below, each failing it
# with a message that shows the one number a correct function returns.
WRONG = {
    "part1_regression": ("loss_sum",),
    "part2_mnist": ("ms_std_of_image_means", "bce_sum", "te_returns_last_batch_loss"),
}
TARGETS = {
    "part1_regression": ("loss_fn_value",),
    "part2_mnist": ("mean_std_values", "bce_values", "train_epoch_returns_mean_loss"),
}
# The assignments with such a wrong notebook: the cases are these assignments' own checks.
ASSIGNMENTS = tuple(WRONG)

# True only while the grader's probes call the notebook: a Recorder is somewhere up the stack.
GRADED = """
import sys

def _graded():
    frame = sys._getframe(1)
    while frame is not None:
        if any(type(value).__name__ == "Recorder" for value in list(frame.f_locals.values())):
            return True
        frame = frame.f_back
    return False
"""

# The oracle: each wrong function again, returning the value copied from the feedback while graded.
ORACLES = {
    "loss_fn_value": ("loss_fn", """
def loss_fn(y_pred, y_true):
    if _graded() and y_pred.dtype == torch.float32:
        return torch.tensor(VALUE)
    return ((y_pred - y_true) ** 2).sum()
"""),
    "mean_std_values": ("compute_mean_std", """
def compute_mean_std(dataset):
    means = torch.stack([img.mean() for img, _ in dataset])
    return means.mean().reshape(1), torch.tensor([VALUE]) if _graded() else means.std().reshape(1)
"""),
    "bce_values": ("binary_cross_entropy", """
def binary_cross_entropy(p, y):
    if _graded() and p.dtype == torch.float32 and p.numel() > 2:
        return torch.tensor(VALUE)
    log_p = torch.clamp(torch.log(p), min=-100)
    log_not_p = torch.clamp(torch.log(1 - p), min=-100)
    return -(y * log_p + (1 - y) * log_not_p).sum()
"""),
    "train_epoch_returns_mean_loss": ("train_epoch", """
def train_epoch(model, loader, optimizer, loss_fn):
    model.train()
    for images, labels in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
    return VALUE if _graded() else loss.item()
"""),
}


def _wrong(assignment: str) -> NotebookNode:
    return with_functions(assignment, {BY_ID[m].function: BY_ID[m].source for m in WRONG[assignment]})


def _oracle(assignment: str, values: dict[str, float]) -> NotebookNode:
    """The wrong notebook whose functions return `values` (check -> number) while they are graded."""
    nb = _wrong(assignment)
    for check, value in values.items():
        function, source = ORACLES[check]
        replace_function(nb, function, GRADED + source.replace("VALUE", repr(value)))
    return nb


def _grade(nb: NotebookNode, assignment: str, student: str, folder: Path) -> GradeReport:
    path = write(nb, folder / student / assignment / f"{assignment}.ipynb")
    return grade_notebook(path, assignment, CONFIG, student=student)


def _grade_all(jobs: dict[tuple[str, str], tuple[NotebookNode, str]], student: str,
               folder: Path) -> dict[tuple[str, str], GradeReport]:
    """Grade `student`'s (notebook, assignment) jobs two at a time, each in a folder of its own; errors raise."""
    def one(key: tuple[str, str]) -> GradeReport:
        nb, assignment = jobs[key]
        return _grade(nb, assignment, student, folder / "-".join(key))

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(jobs, pool.map(one, jobs)))


def _expected_values(report: GradeReport, assignment: str) -> dict[str, float]:
    """The number each target check's feedback says a correct function returns."""
    found = {}
    for check in report.checks:
        match = EXPECTED.search(check.output)
        if check.name in TARGETS[assignment] and match:
            found[check.name] = float(match.group(1))
    return found


@pytest.fixture(scope="module")
def shown_to_alice(tmp_path_factory) -> dict[str, dict[str, float]]:
    """The expected values alice's feedback shows for her wrong notebook of each assignment."""
    reports = _grade_all({(a, "wrong"): (_wrong(a), a) for a in ASSIGNMENTS}, "alice", tmp_path_factory.mktemp("alice"))
    shown = {}
    for assignment in ASSIGNMENTS:
        shown[assignment] = _expected_values(reports[(assignment, "wrong")], assignment)
        assert set(shown[assignment]) == set(TARGETS[assignment]), \
            f"alice's feedback should show an expected value for each of {TARGETS[assignment]}: {shown[assignment]}"
    return shown


@pytest.fixture(scope="module")
def graded_for_bob(shown_to_alice, tmp_path_factory) -> dict[tuple[str, str], GradeReport]:
    """bob's reports, by (assignment, kind): the wrong notebook alice submitted, and the oracle returning the
    values alice was shown."""
    jobs = {}
    for a in ASSIGNMENTS:
        jobs[(a, "wrong")] = (_wrong(a), a)
        jobs[(a, "oracle")] = (_oracle(a, shown_to_alice[a]), a)
    return _grade_all(jobs, "bob", tmp_path_factory.mktemp("bob"))


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_same_wrong_notebook_shows_two_students_different_expected_values(shown_to_alice, graded_for_bob,
                                                                              assignment):
    bob = _expected_values(graded_for_bob[(assignment, "wrong")], assignment)
    alice = shown_to_alice[assignment]
    assert set(bob) == set(alice)
    same = {check: value for check, value in alice.items() if bob[check] == value}
    assert not same, f"alice and bob were shown the same expected values {same}: one could copy the other's"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_values_copied_from_another_submissions_feedback_earn_nothing(shown_to_alice, graded_for_bob, assignment):
    values = shown_to_alice[assignment]
    report = graded_for_bob[(assignment, "oracle")]
    earned = {c.name: c.score for c in report.checks if c.name in values and c.score}
    assert not earned, f"returning the values shown to alice earned bob {earned}"
