"""The arithmetic a submission's numbers are computed with: one CPU thread, deterministic algorithms.

The child runs the student's code with it and the judge recomputes the references with it. A float32
sum's rounding depends on how many threads split it, so a reference summed in another order differs in
the last bits; where a hidden unit's pre-activation lies within that rounding of zero, its ReLU switches
and one epoch of SGD ends elsewhere (a train_epoch weight off by a quarter on a 2-core worker, not on a
1-core one). With the same arithmetic on both sides, a correct submission reproduces the reference exactly.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


def use_grading_arithmetic() -> None:
    """Compute as the grader does from now on (the child, the calibration's workers)."""
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


@contextmanager
def grading_arithmetic() -> Iterator[None]:
    """Compute as the grader does while inside (the judge), then restore this process's settings."""
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    use_grading_arithmetic()
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
