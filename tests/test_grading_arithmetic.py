"""The judge recomputes references with the child's arithmetic (sandbox/arithmetic.py), whatever its cores.

A float32 sum rounds differently when more threads split it. Where a hidden unit's pre-activation lies within
that rounding of zero, its ReLU switches with the thread count, and one epoch of SGD ends elsewhere: the
correct variant p2_bce_add_eps lost train_epoch_updates_like_reference and mnist_accuracy on a 2-core machine
under a grading secret whose inputs put a pre-activation there ("expected 0.00373308 at index 20636, got
0.00464473"). The test below puts one there on purpose.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TypeVar

import pytest
import torch
from torch import nn

from autograder import grading
from autograder.assignments.part2_mnist.child.inputs import (
    PROBE_BATCH,
    PROBE_HIDDEN,
    PROBE_LR,
    probe_batches,
    probe_mlp,
)
from autograder.assignments.part2_mnist.trusted.checks import EPOCH
from autograder.grading import grade_notebook
from solutions import part2_mnist as ref
from tests.helpers import solution, test_config, write

P2 = "part2_mnist"
JUDGE_THREADS = 2  # a worker with more than one core; the child computes with one
T = TypeVar("T")


def _at_threads(threads: int, compute: Callable[[], T]) -> T:
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return compute()
    finally:
        torch.set_num_threads(before)


def _first_batch_preactivations(inputs: dict) -> torch.Tensor:
    net = probe_mlp(inputs)
    with torch.no_grad():
        return net[1](net[0](inputs["te_x"][:PROBE_BATCH]))


def _reference_epoch(inputs: dict) -> torch.Tensor:
    net = probe_mlp(inputs)
    ref.train_epoch(net, probe_batches(inputs), torch.optim.SGD(net.parameters(), lr=PROBE_LR), nn.CrossEntropyLoss())
    return torch.cat([p.detach().flatten() for p in net.parameters()])


def _on_the_kink(inputs: dict) -> dict:
    """`inputs` with one hidden unit's bias moved so that one first-batch pre-activation of the probe's MLP (in
    train_epoch's first step) rounds to opposite sides of zero at one thread and at JUDGE_THREADS threads."""
    for sample, unit in itertools.product(range(PROBE_BATCH), range(PROBE_HIDDEN)):
        bias = inputs["te_b1"].clone()
        bias[unit] -= _at_threads(1, lambda: _first_batch_preactivations(inputs))[sample, unit]
        moved = {**inputs, "te_b1": bias}
        one = _at_threads(1, lambda: _first_batch_preactivations(moved))[sample, unit]
        many = _at_threads(JUDGE_THREADS, lambda: _first_batch_preactivations(moved))[sample, unit]
        if bool(one > 0) != bool(many > 0):
            return moved
    pytest.skip(f"on this machine no first-batch pre-activation rounds to opposite sides of zero at 1 and "
                f"{JUDGE_THREADS} threads: the thread count does not change its matrix products' rounding")


@pytest.mark.slow
def test_train_epoch_is_judged_like_the_child_on_a_relu_kink(tmp_path, monkeypatch):
    kinked: dict = {}

    def grading_inputs(assignment, config, seed):
        kinked.update(_on_the_kink(real(assignment, config, seed)))
        return kinked

    real = grading.grading_inputs
    monkeypatch.setattr(grading, "grading_inputs", grading_inputs)
    report = _at_threads(JUDGE_THREADS, lambda: grade_notebook(
        write(solution(P2), tmp_path / "solution.ipynb"), P2, test_config()))

    one = _at_threads(1, lambda: _reference_epoch(kinked))
    many = _at_threads(JUDGE_THREADS, lambda: _reference_epoch(kinked))
    assert not torch.allclose(many, one, **EPOCH), "the inputs must make the thread count matter beyond the tolerance"
    lost = [f"{c.name}: {c.output}" for c in report.checks if not c.passed]
    assert not lost, "the solution lost points on inputs at a ReLU kink:\n" + "\n".join(lost)
