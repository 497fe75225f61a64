"""Grader validity (issue #5): grading is deterministic.

Every configured assignment's solution notebook and three mutants are graded five times each, in a different
order every round (so they share the two sandboxes with different neighbours); every
round must give identical scores and identical check outputs.
"""
from __future__ import annotations

import random

import pytest

from autograder.batch import grade_many
from tests.catalog import BY_ID
from tests.helpers import ASSIGNMENTS, solution, test_config, with_functions, write

ROUNDS = 5
# One per training path: Adam with a scheduler (part1), SGD epochs whose loss is reported
# (train_epoch), and the end-to-end MNIST training with a model whose accuracy is marginal.
MUTANT_IDS = ("adam_scheduler_before_step", "te_no_zero_grad", "mm_softmax_in_forward")


def _fingerprint(report) -> dict:
    return {c.name: (c.score, c.output) for c in report.checks}


@pytest.mark.slow
def test_grading_is_deterministic(tmp_path):
    jobs = [(write(solution(a), tmp_path / f"solution-{a}.ipynb"), a) for a in ASSIGNMENTS]
    for mutant_id in MUTANT_IDS:
        m = BY_ID[mutant_id]
        jobs.append((write(with_functions(m.assignment, {m.function: m.source}), tmp_path / f"{m.id}.ipynb"),
                     m.assignment))
    rng = random.Random(5)
    seen: dict[str, list[dict]] = {str(path): [] for path, _ in jobs}
    for _ in range(ROUNDS):
        order = jobs[:]
        rng.shuffle(order)
        for (path, _), report in zip(order, grade_many(order, test_config(), workers=2)):
            seen[str(path)].append(_fingerprint(report))
    for path, prints in seen.items():
        first = prints[0]
        for round_index, other in enumerate(prints[1:], start=2):
            changed = {name: (first[name], other.get(name)) for name in first if other.get(name) != first[name]}
            assert not changed, f"{path}: round {round_index} differs from round 1: {changed}"
    for a in ASSIGNMENTS:
        scores = seen[str(tmp_path / f"solution-{a}.ipynb")][0]
        assert all(score == test_config().assignment(a).check_points[name] for name, (score, _) in scores.items()), \
            f"the {a} solution must earn full marks: {scores}"
