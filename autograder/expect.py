"""What hidden checks fail with: CheckFailed, and comparisons whose messages give the call, the expected
value, what came back and where.

Pure logic on plain data and tensors: nothing here runs student code.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import torch

from .assignments.probing import GRADIENT
from .wording import allowance, compared

if TYPE_CHECKING:
    from .evidence import ProbeEvidence


class CheckFailed(AssertionError):
    """A check failed; the message is for the student: what was checked, expected, and found."""


class CodeAbsent(CheckFailed):
    """A check failed because the code it checks is not there: not implemented yet, or not defined."""



def _fmt(x: float) -> str:
    return f"{x:.6g}"


def expect_shape(actual: torch.Tensor, shape: tuple[int, ...], what: str) -> None:
    """Fail unless `actual` has exactly this shape."""
    if tuple(actual.shape) != tuple(shape):
        raise CheckFailed(f"{what}: expected shape {tuple(shape)}, got {tuple(actual.shape)}")


def expect_close(actual: torch.Tensor, expected: torch.Tensor, what: str, *, rtol: float, atol: float) -> None:
    """Fail unless shapes match and |actual - expected| <= atol + rtol * |expected| everywhere."""
    expect_shape(actual, tuple(expected.shape), what)
    if actual.dtype == torch.bool or expected.dtype == torch.bool:
        actual, expected = actual.to(torch.int64), expected.to(torch.int64)
    a, e = actual.detach().double(), expected.detach().double()
    if not torch.isfinite(a).all():
        bad = (~torch.isfinite(a)).nonzero()[0].tolist()
        raise CheckFailed(f"{what}: got a non-finite value {_fmt(a[tuple(bad)].item())} at index {tuple(bad)}")
    err = (a - e).abs()
    allowed = atol + rtol * e.abs()
    if (err > allowed).any():
        idx = tuple(int(i) for i in torch.unravel_index((err - allowed).flatten().argmax(), err.shape)) \
            if err.dim() else ()
        at = f" at index {idx}" if idx else ""
        words = compared(a[idx].item(), e[idx].item())
        raise CheckFailed(f"{what}: expected {_fmt(e[idx].item())}{at}, got {_fmt(a[idx].item())}"
                          f"{f' ({words})' if words else ''}. The largest difference is {_fmt(err.max().item())}; "
                          f"{allowance(rtol, atol)}.")


def expect_equal(actual: torch.Tensor, expected: torch.Tensor, what: str) -> None:
    """Fail unless shapes and every value match exactly (integers, classes, orders)."""
    expect_shape(actual, tuple(expected.shape), what)
    if not torch.equal(actual.to(expected.dtype), expected):
        diff = (actual.to(expected.dtype) != expected).nonzero()[0].tolist()
        idx = tuple(diff)
        raise CheckFailed(f"{what}: expected {expected[idx].item()} at index {idx}, got {actual[idx].item()}")


def expect_gradient(probe: ProbeEvidence, what: str, reference: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                    x64: torch.Tensor, target64: torch.Tensor, *, rtol: float, atol: float) -> None:
    """What assignments.probing.record_gradient saw: the gradient matches the reference's, and gradcheck passed.

    what: "gradient of loss_fn with respect to the predictions", for messages.
    """
    label = f"{what} (computed in float64, double precision)"
    grad = probe.tensor(GRADIENT.grad64, label)
    x = x64.clone().requires_grad_()
    expected = torch.autograd.grad(reference(x, target64).sum(), x)[0]
    expect_close(grad, expected, label, rtol=rtol, atol=atol)
    info = probe.info(GRADIENT.gradcheck, "torch.autograd.gradcheck in float64")
    expect(info.get("value") is True, f"torch.autograd.gradcheck failed for the {what}: the analytical "
           "gradient does not match finite differences")


def expect(condition: bool, message: str) -> None:
    """Fail with `message` unless `condition` holds."""
    if not condition:
        raise CheckFailed(message)
